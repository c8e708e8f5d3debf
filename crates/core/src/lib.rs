//! Types every Beatstream service shares: ids, the JSON error body and its codes, pagination,
//! timestamps, JSON extractors that answer bad input in the house error format, the
//! authenticated caller, and the runtimes background work and write turns run on.
//!
//! This crate owns no data and emits no events.

pub mod caller;
pub mod error;
pub mod extract;
pub mod ids;
pub mod memory;
pub mod page;
pub mod runtimes;
pub mod time;
pub mod validate;

pub use caller::{AuthOutcome, Authenticator, Caller, ClientAddr, Scope, UserRole};
pub use error::{ApiError, ErrorCode};
pub use extract::{ApiJson, ApiQuery};
pub use ids::UserId;
pub use page::{Page, PageQuery, Paged};
pub use time::Timestamp;
