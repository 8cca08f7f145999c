//! The pieces shared by the bench's binaries: `regal-bench` (the benchmarks, issue 9)
//! and `regal-soak` (mixed load while parts are killed and restarted, then the books are
//! checked; issue 10).
//!
//! Modules: [`suite`] (processes, database), [`procstat`] (CPU and RSS from /proc),
//! [`load`] (closed and open loop engine), [`clients`] (REST h1/h2c, gRPC-web, gRPC),
//! [`seed`], [`soak`].

pub mod clients;
pub mod load;
pub mod procstat;
pub mod seed;
pub mod soak;
pub mod suite;
