//! A rate limit per client address at the edge: a token bucket per IP address, refilled at
//! `per_second` up to `burst`. A request over the limit gets 429 `rate_limited` with
//! `Retry-After`, and never reaches a service. Off when `per_second` is 0.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use beatstream_core::{ApiError, ErrorCode};

/// Addresses remembered at most; past it, full buckets (idle clients) are forgotten.
const MAX_CLIENTS: usize = 100_000;

pub struct RateLimit {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimit {
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimit {
            per_second: f64::from(per_second),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token for `client`; the seconds to wait when there is none.
    fn take(&self, client: IpAddr, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_CLIENTS {
            let (rate, burst) = (self.per_second, self.burst);
            buckets.retain(|_, (tokens, at)| {
                *tokens + rate * now.duration_since(*at).as_secs_f64() < burst
            });
        }
        let (tokens, at) = buckets.entry(client).or_insert((self.burst, now));
        *tokens =
            (*tokens + self.per_second * now.duration_since(*at).as_secs_f64()).min(self.burst);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

pub async fn limit(State(limit): State<Arc<RateLimit>>, request: Request, next: Next) -> Response {
    let client = request
        .extensions()
        .get::<ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    if let Some(client) = client {
        if let Err(wait) = limit.take(client, Instant::now()) {
            return ApiError::new(
                ErrorCode::TooManyRequests,
                "rate_limited",
                "too many requests from this address; slow down",
            )
            .with_retry_after(wait)
            .into_response();
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_then_the_rate_per_address() {
        let limit = RateLimit::new(2, 3);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limit.take(a, start).is_ok());
        }
        assert_eq!(limit.take(a, start), Err(1));
        assert!(
            limit.take(b, start).is_ok(),
            "another address has its own bucket"
        );
        assert!(
            limit.take(a, start + Duration::from_millis(500)).is_ok(),
            "refilled at 2 a second"
        );
        assert!(limit.take(a, start + Duration::from_millis(500)).is_err());
    }
}
