//! The catalogue's call map as the sandbox's function set (the code lives in the catalogue,
//! shared with the browser package).

pub use crate::catalogue::functions::{DepartedMap, function_set, function_set_with_departed};
