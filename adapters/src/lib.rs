//! Bus adapters for codemode.
