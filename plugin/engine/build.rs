//! Assembles the pure-Python modules frozen into the sandbox.
//!
//! The CPython modules the allowlist needs (`json`, `re`, `datetime`, `statistics`, … and what
//! they import) are taken from the `rustpython-pylib` crate's copy of CPython's `Lib`, not kept in
//! this repository; codemode's own runtime modules come from `src/python`. Both are copied
//! into `OUT_DIR/pylib`, and `OUT_DIR/frozen_pylib.rs` freezes that folder with `py_freeze!`, so
//! the interpreter loads them as bytecode without touching the file system at run time.

#![expect(
    clippy::expect_used,
    clippy::panic,
    reason = "a build script reports failure by panicking"
)]

use std::{
    env, fs,
    path::{Path, PathBuf},
};

/// CPython modules frozen into the sandbox, relative to `Lib/`. Only what the import allowlist
/// (see `src/engine/stdlib.rs`) and its transitive imports need.
const CPYTHON_MODULES: &[&str] = &[
    "__future__.py",
    "_collections_abc.py",
    "_py_warnings.py",
    "_pydatetime.py",
    "_pydecimal.py",
    "_strptime.py",
    "_weakrefset.py",
    "abc.py",
    "annotationlib.py",
    "ast.py",
    "base64.py",
    "bisect.py",
    "calendar.py",
    "codecs.py",
    "collections/__init__.py",
    "collections/_defaultdict.py",
    "contextlib.py",
    "contextvars.py",
    "copy.py",
    "copyreg.py",
    "csv.py",
    "dataclasses.py",
    "datetime.py",
    "decimal.py",
    "difflib.py",
    "encodings/__init__.py",
    "encodings/_win_cp_codecs.py",
    "encodings/aliases.py",
    "encodings/ascii.py",
    "encodings/charmap.py",
    "encodings/cp1252.py",
    "encodings/latin_1.py",
    "encodings/utf_16.py",
    "encodings/utf_32.py",
    "encodings/utf_8.py",
    "enum.py",
    "fractions.py",
    "functools.py",
    "hashlib.py",
    "heapq.py",
    "json/__init__.py",
    "json/decoder.py",
    "json/encoder.py",
    "json/scanner.py",
    "keyword.py",
    "numbers.py",
    "operator.py",
    "pprint.py",
    "random.py",
    "re/__init__.py",
    "re/_casefix.py",
    "re/_compiler.py",
    "re/_constants.py",
    "re/_parser.py",
    "reprlib.py",
    "statistics.py",
    "string/__init__.py",
    "string/templatelib.py",
    "struct.py",
    "textwrap.py",
    "types.py",
    "typing.py",
    "warnings.py",
    "weakref.py",
];

/// codemode's own modules (the runtime and safe stand-ins), in `src/python`.
const OWN_MODULES: &[&str] = &[
    "_codemode.py",
    "_codemode_time.py",
    "asyncio.py",
    "inspect.py",
    "io.py",
    "locale.py",
    "os.py",
    "uuid.py",
];

/// CPython modules frozen under another name, behind a stand-in that re-exports the safe part.
const RENAMED_CPYTHON_MODULES: &[(&str, &str)] = &[("uuid.py", "_cpython_uuid.py")];

/// Source edits made while copying, each `(file, from, to)`; `from` must occur.
///
/// RustPython refuses `ZeroDivisionError.__new__` (and `TypeError.__new__`) for a class whose
/// first base is a plain `Exception` subclass ("is not safe"), so `Decimal(1) / 0` failed with
/// a `TypeError`; putting the built-in base first keeps every `isinstance` answer.
const PATCHES: &[(&str, &str, &str)] = &[
    (
        "_pydecimal.py",
        "class DivisionByZero(DecimalException, ZeroDivisionError):",
        "class DivisionByZero(ZeroDivisionError, DecimalException):",
    ),
    (
        "_pydecimal.py",
        "class DivisionUndefined(InvalidOperation, ZeroDivisionError):",
        "class DivisionUndefined(ZeroDivisionError, InvalidOperation):",
    ),
    (
        "_pydecimal.py",
        "class FloatOperation(DecimalException, TypeError):",
        "class FloatOperation(TypeError, DecimalException):",
    ),
    // RustPython's `_json` has no C encoder: plain data goes to codemode's native one
    // (`json_encode` in `src/engine/natives.rs`), anything else to the Python encoder as before.
    (
        "json/encoder.py",
        "try:\n    from _json import make_encoder as c_make_encoder\n",
        "try:\n    from _codemode_native import json_encode as _codemode_encode\n\
         except ImportError:\n    _codemode_encode = None\n\
         try:\n    from _json import make_encoder as c_make_encoder\n",
    ),
    (
        "json/encoder.py",
        "        # This is for extremely simple cases and benchmarks.\n        if isinstance(o, str):",
        "        if _codemode_encode is not None and type(self).iterencode is JSONEncoder.iterencode:\n\
         \x20           indent = self.indent\n\
         \x20           if indent is not None and not isinstance(indent, str):\n\
         \x20               indent = ' ' * indent\n\
         \x20           text = _codemode_encode(o, self.ensure_ascii, self.allow_nan, self.sort_keys,\n\
         \x20                                   indent, self.item_separator, self.key_separator)\n\
         \x20           if text is not None:\n\
         \x20               return text\n\
         \x20       # This is for extremely simple cases and benchmarks.\n        if isinstance(o, str):",
    ),
];

fn main() {
    let out_dir =
        PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR for build scripts"));
    let pylib = out_dir.join("pylib");
    if pylib.exists() {
        fs::remove_dir_all(&pylib).expect("clear OUT_DIR/pylib");
    }
    let cpython = Path::new(rustpython_pylib::LIB_PATH);
    for module in CPYTHON_MODULES {
        copy(&cpython.join(module), &pylib.join(module));
    }
    for (module, from, to) in PATCHES {
        let path = pylib.join(module);
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("read {}: {error}", path.display()));
        assert!(text.contains(from), "{module} no longer contains {from:?}");
        fs::write(&path, text.replace(from, to))
            .unwrap_or_else(|error| panic!("write {}: {error}", path.display()));
    }
    for (module, renamed) in RENAMED_CPYTHON_MODULES {
        copy(&cpython.join(module), &pylib.join(renamed));
    }
    let own = Path::new("src/python");
    for module in OWN_MODULES {
        let source = own.join(module);
        println!("cargo::rerun-if-changed={}", source.display());
        copy(&source, &pylib.join(module));
    }
    let pylib_literal = format!("{:?}", pylib.display().to_string());
    fs::write(
        out_dir.join("frozen_pylib.rs"),
        format!("::rustpython_vm::py_freeze!(dir = {pylib_literal})\n"),
    )
    .expect("write OUT_DIR/frozen_pylib.rs");
    println!("cargo::rerun-if-changed=build.rs");
}

fn copy(from: &Path, to: &Path) {
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)
            .unwrap_or_else(|error| panic!("create {}: {error}", parent.display()));
    }
    fs::copy(from, to)
        .unwrap_or_else(|error| panic!("copy {} to {}: {error}", from.display(), to.display()));
}
