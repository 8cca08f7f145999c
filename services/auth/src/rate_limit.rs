//! Login rate limiting in Redis, shared by every replica: failed attempts are counted per
//! username and per client address within a window; over either limit every attempt for
//! that username or from that address is refused until the window passes.
//!
//! If Redis cannot be reached the limiter lets attempts through (and logs it): signing in
//! at the till matters more than the limit during an outage, and passwords are still
//! checked with argon2id.

use std::time::Duration;

use redis::aio::ConnectionManager;
use regal_config::LoginSettings;

/// Longest username kept in a key (anything can be typed into a login form).
const MAX_KEY_USERNAME_CHARS: usize = 100;

#[derive(Clone)]
pub struct LoginLimiter {
    redis: ConnectionManager,
    prefix: String,
    settings: LoginSettings,
}

impl LoginLimiter {
    pub fn new(redis: ConnectionManager, prefix: &str, settings: LoginSettings) -> Self {
        Self {
            redis,
            prefix: prefix.to_owned(),
            settings,
        }
    }

    fn username_key(&self, username: &str) -> String {
        let normalised: String = username
            .trim()
            .to_lowercase()
            .chars()
            .take(MAX_KEY_USERNAME_CHARS)
            .collect();
        format!("{}login:failures:user:{normalised}", self.prefix)
    }

    fn address_key(&self, address: &str) -> String {
        format!("{}login:failures:addr:{address}", self.prefix)
    }

    /// `Err(retry_after)` when the username or the address is over its limit.
    pub async fn check(&self, username: &str, address: Option<&str>) -> Result<(), Duration> {
        let mut keys = vec![(
            self.username_key(username),
            self.settings.max_failures_per_username,
        )];
        if let Some(address) = address {
            keys.push((
                self.address_key(address),
                self.settings.max_failures_per_address,
            ));
        }
        let mut pipeline = redis::pipe();
        for (key, _) in &keys {
            pipeline.get(key).pttl(key);
        }
        let mut redis = self.redis.clone();
        let replies: Vec<(Option<u32>, i64)> = match pipeline
            .query_async::<Vec<(Option<u32>, i64)>>(&mut redis)
            .await
        {
            Ok(replies) => replies,
            Err(error) => {
                tracing::warn!(error = %error, "login limiter unavailable; attempt allowed");
                return Ok(());
            }
        };
        let retry_after = keys
            .iter()
            .zip(replies)
            .filter(|((_, limit), (failures, _))| failures.unwrap_or(0) >= *limit)
            .map(|(_, (_, ttl_millis))| {
                if ttl_millis > 0 {
                    Duration::from_millis(ttl_millis as u64)
                } else {
                    self.settings.failure_window
                }
            })
            .max();
        match retry_after {
            Some(retry_after) => Err(retry_after),
            None => Ok(()),
        }
    }

    /// Counts a failed attempt for the username and the address.
    pub async fn record_failure(&self, username: &str, address: Option<&str>) {
        let window = self.settings.failure_window.as_secs() as i64;
        let mut keys = vec![self.username_key(username)];
        if let Some(address) = address {
            keys.push(self.address_key(address));
        }
        let mut pipeline = redis::pipe();
        for key in &keys {
            pipeline
                .incr(key, 1)
                .ignore()
                .cmd("EXPIRE")
                .arg(key)
                .arg(window)
                .arg("NX")
                .ignore();
        }
        let mut redis = self.redis.clone();
        if let Err(error) = pipeline.query_async::<()>(&mut redis).await {
            tracing::warn!(error = %error, "login limiter unavailable; failure not counted");
        }
    }

    /// Forgets the failures of a username after a successful login.
    pub async fn clear_username(&self, username: &str) {
        let mut redis = self.redis.clone();
        let key = self.username_key(username);
        if let Err(error) = redis::cmd("DEL")
            .arg(key)
            .query_async::<()>(&mut redis)
            .await
        {
            tracing::warn!(error = %error, "login limiter unavailable; failures not cleared");
        }
    }
}
