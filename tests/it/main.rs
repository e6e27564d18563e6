//! Integration tests against real peers: the io.Connect adapter against the real open-source
//! gateway with real `@interopio/*` apps, and the FDC3 adapter against the FINOS reference
//! Desktop Agent.
#![expect(clippy::expect_used, reason = "test helpers fail loudly")]

mod app_definition;
mod contract;
mod fdc3_agent;
mod real_gateway;
