//! `[store]`: where rooms live. Part of the server's configuration (`Config.store`), defined
//! here next to the stores it configures.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// `[store]` section.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `"local"`, `"memory"` or `"redis"`. Default `"local"`: rooms are kept in `data_dir` and
    /// survive a restart or a crash with no set-up. `"memory"` keeps them in this process only
    /// (a restart ends them; `--demo` and tests use it). `"redis"` shares them between several
    /// instances through `[store.redis]`.
    pub backend: String,
    /// Folder for the embedded store (`backend = "local"`). Default unset, which means
    /// `$STATE_DIRECTORY` when systemd provides one (`StateDirectory=` in the unit), else
    /// `./matinee-data` under the working directory.
    pub data_dir: Option<PathBuf>,
    /// Longest time a room change waits before it is written, ms. Default 250: a `kill -9`
    /// loses at most this much, and a room that changes many times in it is written once.
    /// At most 1000.
    pub flush_interval_ms: u64,
    /// `[store.redis]`: the shared backend.
    pub redis: RedisConfig,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            backend: "local".into(),
            data_dir: None,
            flush_interval_ms: 250,
            redis: RedisConfig::default(),
        }
    }
}

/// `[store.redis]` section.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RedisConfig {
    /// Redis URL, e.g. `redis://redis:6379/0` or `redis://:password@host:6379`. Default
    /// `redis://127.0.0.1:6379/0`. A password in it is masked by `--print-config`.
    pub url: String,
    /// Prefix of every key and channel, so several deployments can share one Redis.
    /// Default `"matinee:"`.
    pub key_prefix: String,
    /// How long a room's lease lasts without renewal, ms. An instance that dies hands its
    /// rooms over after at most this long. Default 5000; renewed every third of it.
    pub lease_ms: u64,
    /// Longest wait for one Redis command, ms; past it Redis counts as down (`/readyz` 503).
    /// Default 1000.
    pub timeout_ms: u64,
    /// This instance's name in leases and channels. Default unset: a random id per start,
    /// which is what you want unless you need to recognise instances in Redis.
    pub instance_id: Option<String>,
}

impl Default for RedisConfig {
    fn default() -> Self {
        RedisConfig {
            url: "redis://127.0.0.1:6379/0".into(),
            key_prefix: "matinee:".into(),
            lease_ms: 5_000,
            timeout_ms: 1_000,
            instance_id: None,
        }
    }
}

/// Which store the configuration asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// In this process only.
    Memory,
    /// Files in the data directory.
    Local,
    /// Shared through Redis.
    Redis,
}

impl StoreConfig {
    /// The backend, or a message naming the key.
    pub fn backend(&self) -> Result<Backend, String> {
        match self.backend.as_str() {
            "memory" => Ok(Backend::Memory),
            "local" => Ok(Backend::Local),
            "redis" => Ok(Backend::Redis),
            other => Err(format!(
                "store.backend must be \"local\", \"memory\" or \"redis\", not {other:?}"
            )),
        }
    }

    /// Check the values, naming the key at fault.
    pub fn validate(&self) -> Result<(), String> {
        self.backend()?;
        if !(1..=1000).contains(&self.flush_interval_ms) {
            return Err("store.flush_interval_ms must be between 1 and 1000".into());
        }
        let r = &self.redis;
        if r.lease_ms < 300 {
            return Err("store.redis.lease_ms must be at least 300".into());
        }
        if r.timeout_ms == 0 || r.timeout_ms >= r.lease_ms {
            return Err(
                "store.redis.timeout_ms must be positive and below store.redis.lease_ms".into(),
            );
        }
        if self.backend()? == Backend::Redis {
            redis::Client::open(r.url.as_str()).map_err(|e| format!("store.redis.url: {e}"))?;
        }
        if r.instance_id.as_deref().is_some_and(|i| {
            i.is_empty()
                || i.len() > 64
                || !i
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }) {
            return Err("store.redis.instance_id must be 1–64 letters, digits, - or _".into());
        }
        Ok(())
    }

    /// The data directory: `data_dir`, else `$STATE_DIRECTORY` (its first entry; systemd may
    /// list several separated by `:`), else `./matinee-data`.
    pub fn data_dir(&self, state_directory: Option<&str>) -> PathBuf {
        if let Some(d) = &self.data_dir {
            return d.clone();
        }
        match state_directory
            .and_then(|s| s.split(':').next())
            .filter(|s| !s.is_empty())
        {
            Some(s) => PathBuf::from(s),
            None => PathBuf::from("matinee-data"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_local_and_valid() {
        let c = StoreConfig::default();
        c.validate().unwrap();
        assert_eq!(c.backend().unwrap(), Backend::Local);
    }

    #[test]
    fn the_data_dir_follows_the_documented_order() {
        let mut c = StoreConfig::default();
        assert_eq!(c.data_dir(None), PathBuf::from("matinee-data"));
        assert_eq!(
            c.data_dir(Some("/var/lib/matinee:/var/lib/other")),
            PathBuf::from("/var/lib/matinee")
        );
        c.data_dir = Some("/srv/m".into());
        assert_eq!(
            c.data_dir(Some("/var/lib/matinee")),
            PathBuf::from("/srv/m")
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        type Case = (fn(&mut StoreConfig), &'static str);
        let cases: Vec<Case> = vec![
            (|c| c.backend = "disk".into(), "store.backend"),
            (|c| c.flush_interval_ms = 5000, "store.flush_interval_ms"),
            (|c| c.redis.lease_ms = 10, "store.redis.lease_ms"),
            (|c| c.redis.timeout_ms = 9000, "store.redis.timeout_ms"),
            (
                |c| {
                    c.backend = "redis".into();
                    c.redis.url = "http://x".into()
                },
                "store.redis.url",
            ),
            (
                |c| c.redis.instance_id = Some("a b".into()),
                "store.redis.instance_id",
            ),
        ];
        for (m, key) in cases {
            let mut c = StoreConfig::default();
            m(&mut c);
            let e = c.validate().unwrap_err();
            assert!(e.contains(key), "{e}");
        }
    }
}
