//! Integration tests: the io.Connect adapter against the real open-source gateway with real
//! `@interopio/*` apps.

mod real_gateway;
