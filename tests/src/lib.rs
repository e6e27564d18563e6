//! Test fixtures for codemode's integration tests.
