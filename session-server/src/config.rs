//! Configuration: built-in defaults → optional TOML file → `MATINEE_<SECTION>__<KEY>`
//! environment variables → command-line flags, merged with the `config` crate.
//!
//! Every field documents its default and the reason for it; `--print-config` shows the
//! effective values with secrets masked (see [`to_masked_toml`]).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The whole configuration.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `[server]`: listening, origins, connection cap.
    pub server: ServerConfig,
    /// `[limits]`: what one connection may send (DESIGN §5).
    pub limits: LimitsConfig,
    /// `[rooms]`: room lifecycle and playback scheduling.
    pub rooms: RoomsConfig,
    /// `[demo]`: the demo page and test media.
    pub demo: DemoConfig,
    /// `[log]`: logging.
    pub log: LogConfig,
    /// `[auth]`: who may connect (owned by the authentication module).
    pub auth: matinee_auth::AuthConfig,
    /// `[jellyfin]`: where Jellyfin is (owned by the authentication module).
    pub jellyfin: matinee_auth::JellyfinConfig,
    /// `[store]`: where rooms live, so they survive restarts (owned by the store crate).
    pub store: matinee_store::StoreConfig,
}

/// `[server]` section.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on, e.g. `"0.0.0.0:3000"`. Default: unset, which means
    /// `0.0.0.0:3000`, or `127.0.0.1:3000` with `--demo` (a demo should not be reachable
    /// from the network by accident). `--listen` overrides it.
    pub listen: Option<String>,
    /// Browser origins allowed to open the WebSocket, e.g. `["https://jellyfin.example.com"]`.
    /// Default: empty, which admits only same-origin pages (Origin host equal to the request's
    /// Host) and non-browser clients (no Origin header). `"*"` admits every origin; use it only
    /// when a token is required anyway and you accept cross-site pages connecting.
    pub allowed_origins: Vec<String>,
    /// Most WebSocket connections held at once; further upgrades get HTTP 503.
    /// Default 25000: well within what one small machine holds, and a ceiling on memory.
    pub max_connections: usize,
    /// Longest time to wait for connections to close on shutdown, ms. Default 4000, so the
    /// process exits within the 5 s service managers usually allow.
    pub shutdown_timeout_ms: u64,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: None,
            allowed_origins: Vec::new(),
            max_connections: 25_000,
            shutdown_timeout_ms: 4_000,
        }
    }
}

/// `[limits]` section (DESIGN §5).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest text frame accepted, bytes. Default 16384: every protocol message fits in a
    /// fraction of it; anything larger is abuse (`too_large`, then close 1009).
    pub max_frame_bytes: usize,
    /// Sustained messages per second per connection (token bucket). Default 20: a client sends
    /// a ping every second and a status at most twice a second; 20 leaves room for bursts of UI.
    pub messages_per_second: f64,
    /// Token-bucket size. Default 40: the connect-time ping burst plus room setup.
    pub burst: u32,
    /// Messages dropped as `rate_limited` within 10 s after which the connection is closed with
    /// 4008. Default 120 (three bursts): a client that ignores `rate_limited` that often is broken
    /// or hostile.
    pub rate_limit_close_after: u32,
    /// `status` messages per second taken into account; the excess is ignored silently (it only
    /// feeds throttled statistics). Default 2, as DESIGN says.
    pub status_per_second: f64,
    /// Longest chat message, characters. Default 500.
    pub max_chat_chars: usize,
    /// Members per room. Default 50: a watch party, not a broadcast.
    pub max_members: usize,
    /// Items in a room's queue. Default 50: a season or two, and a bound on what every
    /// member is sent with each change; one more gets `too_large`.
    pub max_queue: usize,
    /// Rooms per server. Default 10000; beyond it `create_room` gets `rate_limited`.
    pub max_rooms: usize,
    /// Failed `join_room` per minute per connection before `rate_limited`. Default 5, which
    /// makes guessing room codes hopeless.
    pub failed_joins_per_minute: u32,
    /// Time for the first frame (`hello`) to arrive, ms; then close 4001. Default 5000.
    pub hello_timeout_ms: u64,
    /// WebSocket ping interval, ms. Default 15000: keeps NAT and proxies from idling us out.
    pub ping_interval_ms: u64,
    /// A peer silent for this long (no frame, not even a pong) is dropped, ms. Default 45000
    /// (three missed pings).
    pub dead_after_ms: u64,
    /// Outbound queue per connection, messages. Default 256; a reader that lets it fill is
    /// closed with 4003 so it never slows the room.
    pub outbound_queue: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_frame_bytes: 16 * 1024,
            messages_per_second: 20.0,
            burst: 40,
            rate_limit_close_after: 120,
            status_per_second: 2.0,
            max_chat_chars: 500,
            max_members: 50,
            max_queue: 50,
            max_rooms: 10_000,
            failed_joins_per_minute: 5,
            hello_timeout_ms: 5_000,
            ping_interval_ms: 15_000,
            dead_after_ms: 45_000,
            outbound_queue: 256,
        }
    }
}

/// `[rooms]` section: lifecycle and scheduling.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RoomsConfig {
    /// How long a dropped connection keeps its seat for `hello{resume}`, ms. Default 30000:
    /// long enough for a Wi-Fi hiccup or a page reload, short enough that ghosts vanish.
    pub resume_window_ms: u64,
    /// How long the host's role waits for the host's connection to come back, ms. Default
    /// 5000: a page reload resumes well within it and keeps the role; a closed page hands the
    /// role to the longest-present connected member after it, instead of freezing the room
    /// for the whole resume window (the seat itself stays resumable that long).
    pub host_grace_ms: u64,
    /// A member buffering longer than this while playing pauses the room, ms. Default 400:
    /// shorter stalls are absorbed by drift correction.
    pub buffering_grace_ms: u64,
    /// Longest wait for a buffering member before playback resumes without it, ms.
    /// Default 30000.
    pub wait_cap_ms: u64,
    /// Minimum interval between two `members` messages in a room, ms. Default 500 (≤ 2/s).
    pub members_interval_ms: u64,
    /// Longest a `members` message waits to carry changed numbers only (`rtt_ms`,
    /// `error_ms`), ms. Default 5000: statuses arrive every second from every member, and
    /// re-sending the whole list for each new round-trip time was most of what the server
    /// sent under load. Changes a person sees (join, leave, host, buffering, connected, a
    /// member drifting in or out of sync) still go out within `members_interval_ms`.
    pub members_refresh_ms: u64,
    /// Lower bound of the scheduled-start lead, ms. Default 80: the time a player needs to
    /// act on a command even on loopback.
    pub min_lead_ms: f64,
    /// Upper bound of the scheduled-start lead, ms. Default 1000: beyond it a click feels broken.
    pub max_lead_ms: f64,
    /// Added to twice the highest one-way delay, ms. Default 30: scheduling jitter.
    pub lead_margin_ms: f64,
    /// Cap on a seek's whole lead (start lead + reported seek latency), ms. Default 2000.
    pub max_seek_lead_ms: f64,
}

impl Default for RoomsConfig {
    fn default() -> Self {
        RoomsConfig {
            resume_window_ms: 30_000,
            host_grace_ms: 5_000,
            buffering_grace_ms: 400,
            wait_cap_ms: 30_000,
            members_interval_ms: 500,
            members_refresh_ms: 5_000,
            min_lead_ms: 80.0,
            max_lead_ms: 1000.0,
            lead_margin_ms: 30.0,
            max_seek_lead_ms: 2000.0,
        }
    }
}

/// `[demo]` section.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct DemoConfig {
    /// Serve the demo page at `/` (and the client at `/demo/`, `/src/`). Default false;
    /// `--demo` turns it on.
    pub enabled: bool,
    /// Folder served at `/media/` (test clips, HLS streams). Default unset: nothing served.
    pub media_dir: Option<PathBuf>,
}

/// `[log]` section.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// Level filter (`error`, `warn`, `info`, `debug`, `trace`, or a `tracing` directive such
    /// as `matinee_server=debug`). Default `info`. `RUST_LOG` wins when set.
    pub level: String,
    /// `human` or `json`. Default `human`; JSON suits log collectors.
    pub format: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: "human".into(),
        }
    }
}

/// Configuration keys whose environment value is a comma-separated list.
const LIST_KEYS: &[&str] = &["server.allowed_origins"];

/// What the command line asked for, merged last.
#[derive(Clone, Debug, Default)]
pub struct CliOverrides {
    /// `--demo`.
    pub demo: bool,
    /// `--listen ADDR`.
    pub listen: Option<String>,
    /// `--config PATH` (or `MATINEE_CONFIG`).
    pub config_file: Option<PathBuf>,
}

impl Config {
    /// Merge defaults, the optional file, the given environment and the CLI.
    pub fn load(cli: &CliOverrides, env: &HashMap<String, String>) -> Result<Config, String> {
        let defaults = config::Config::try_from(&Config::default()).map_err(|e| e.to_string())?;
        let mut b = config::Config::builder().add_source(defaults);
        if cli.demo {
            // Demo defaults sit under the file and the environment, so explicit settings win.
            b = b
                .set_default("auth.allow_anonymous", true)
                .map_err(|e| e.to_string())?;
            b = b
                .set_default("demo.enabled", true)
                .map_err(|e| e.to_string())?;
            // A demo keeps no files unless asked to (`make run` from a checkout). A source of
            // its own right above the built-in defaults (which are a source too, so a
            // `set_default` would sit under them and lose), below the file and environment.
            let demo = config::Config::builder()
                .set_override("store.backend", "memory")
                .and_then(|d| d.build())
                .map_err(|e| e.to_string())?;
            b = b.add_source(demo);
        }
        if let Some(path) = &cli.config_file {
            if !path.exists() {
                return Err(format!(
                    "configuration file {} does not exist",
                    path.display()
                ));
            }
            b = b.add_source(config::File::from(path.as_path()).format(config::FileFormat::Toml));
        }
        // Only MATINEE_<SECTION>__<KEY> variables: MATINEE_CONFIG names the file, not a key.
        let vars: HashMap<String, String> = env
            .iter()
            .filter(|(k, _)| k.starts_with("MATINEE_") && k.contains("__"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut envsrc = config::Environment::with_prefix("MATINEE")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .source(Some(vars.into_iter().collect()));
        for k in LIST_KEYS {
            envsrc = envsrc.with_list_parse_key(k);
        }
        b = b.add_source(envsrc);
        if cli.demo {
            b = b
                .set_override("demo.enabled", true)
                .map_err(|e| e.to_string())?;
            b = b
                .set_override("auth.allow_anonymous", true)
                .map_err(|e| e.to_string())?;
        }
        let built = b.build().map_err(|e| e.to_string())?;
        let mut cfg: Config = built.try_deserialize().map_err(|e| e.to_string())?;
        if let Some(l) = &cli.listen {
            cfg.server.listen = Some(l.clone());
        }
        if cli.demo && cfg.server.listen.is_none() {
            cfg.server.listen = Some("127.0.0.1:3000".into());
        }
        cfg.validate()?;
        Ok(cfg)
    }

    /// Reject values that would make the server misbehave, with a message naming the key.
    pub fn validate(&self) -> Result<(), String> {
        self.listen_addr()?;
        let l = &self.limits;
        let checks: [(bool, &str); 10] = [
            (
                l.max_frame_bytes >= 256,
                "limits.max_frame_bytes must be at least 256",
            ),
            (
                l.messages_per_second > 0.0,
                "limits.messages_per_second must be positive",
            ),
            (l.burst >= 1, "limits.burst must be at least 1"),
            (
                l.status_per_second > 0.0,
                "limits.status_per_second must be positive",
            ),
            (l.max_members >= 1, "limits.max_members must be at least 1"),
            (l.max_queue >= 1, "limits.max_queue must be at least 1"),
            (
                l.outbound_queue >= 1,
                "limits.outbound_queue must be at least 1",
            ),
            (
                l.ping_interval_ms >= 10,
                "limits.ping_interval_ms must be at least 10",
            ),
            (
                l.dead_after_ms > l.ping_interval_ms,
                "limits.dead_after_ms must exceed limits.ping_interval_ms",
            ),
            (
                self.rooms.min_lead_ms >= 0.0 && self.rooms.max_lead_ms >= self.rooms.min_lead_ms,
                "rooms.min_lead_ms must be ≥ 0 and ≤ rooms.max_lead_ms",
            ),
        ];
        for (ok, msg) in checks {
            if !ok {
                return Err(msg.into());
            }
        }
        self.store.validate()?;
        if !["human", "json"].contains(&self.log.format.as_str()) {
            return Err(format!(
                "log.format must be \"human\" or \"json\", not {:?}",
                self.log.format
            ));
        }
        Ok(())
    }

    /// The address to bind: `server.listen`, else `0.0.0.0:3000`.
    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        let s = self.server.listen.as_deref().unwrap_or("0.0.0.0:3000");
        s.parse()
            .map_err(|_| format!("server.listen: {s:?} is not an address like 0.0.0.0:3000"))
    }

    /// A configuration for tests and embedding: defaults with anonymous access on and rooms in
    /// memory (no files).
    pub fn for_tests() -> Config {
        let mut c = Config::default();
        c.auth.allow_anonymous = true;
        c.store.backend = "memory".into();
        c
    }
}

/// Whether a key names a secret whose value must never be printed.
pub fn is_secret_key(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["secret", "password", "token", "api_key"]
        .iter()
        .any(|w| k.contains(w))
}

/// The configuration as TOML, with secret-looking values replaced by `"***"`.
/// Unset optional values are shown as comments so every key is visible.
pub fn to_masked_toml(cfg: &Config) -> String {
    let v = serde_json::to_value(cfg).expect("configuration serializes");
    let mut out = String::new();
    if let Value::Object(sections) = v {
        for (name, body) in sections {
            write_table(&mut out, &name, &body);
        }
    }
    out
}

fn write_table(out: &mut String, path: &str, v: &Value) {
    let Value::Object(map) = v else { return };
    out.push_str(&format!("[{path}]\n"));
    let mut nested = Vec::new();
    for (k, val) in map {
        match val {
            Value::Object(_) => nested.push((k, val)),
            Value::Null => out.push_str(&format!("# {k} = (unset)\n")),
            Value::String(_) | Value::Array(_) if is_secret_key(k) && !is_empty(val) => {
                out.push_str(&format!("{k} = \"***\"\n"))
            }
            Value::String(u) if has_userinfo(u) => out.push_str(&format!(
                "{k} = {}\n",
                toml_value(&Value::String(mask_userinfo(u)))
            )),
            _ => out.push_str(&format!("{k} = {}\n", toml_value(val))),
        }
    }
    out.push('\n');
    for (k, val) in nested {
        write_table(out, &format!("{path}.{k}"), val);
    }
}

/// `scheme://user:pass@host/…` carries a credential in the URL itself.
fn has_userinfo(s: &str) -> bool {
    s.split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or("").contains('@'))
        .unwrap_or(false)
}

/// Replaces the `user:pass@` part of a URL with `***@`.
fn mask_userinfo(s: &str) -> String {
    let Some((scheme, rest)) = s.split_once("://") else {
        return s.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://***@{host}{path}"),
        None => s.to_string(),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Null => true,
        _ => false,
    }
}

fn toml_value(v: &Value) -> String {
    match v {
        // JSON string escaping is valid TOML basic-string escaping for what we print.
        Value::String(s) => serde_json::to_string(s).expect("string serializes"),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                if f.fract() == 0.0 {
                    format!("{f:.1}")
                } else {
                    f.to_string()
                }
            } else {
                n.to_string()
            }
        }
        Value::Bool(b) => b.to_string(),
        Value::Array(a) => format!(
            "[{}]",
            a.iter().map(toml_value).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(m) => format!(
            "{{ {} }}",
            m.iter()
                .map(|(k, v)| format!("{k} = {}", toml_value(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Value::Null => "\"\"".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_documented_values() {
        let c = Config::load(&CliOverrides::default(), &HashMap::new()).unwrap();
        assert_eq!(c.listen_addr().unwrap().to_string(), "0.0.0.0:3000");
        assert_eq!(c.limits.max_frame_bytes, 16384);
        assert!(!c.auth.allow_anonymous);
        assert!(!c.demo.enabled);
    }

    #[test]
    fn rooms_are_kept_locally_by_default_in_memory_for_a_demo_unless_told() {
        let c = Config::load(&CliOverrides::default(), &HashMap::new()).unwrap();
        assert_eq!(c.store.backend, "local");
        let demo = CliOverrides {
            demo: true,
            ..Default::default()
        };
        assert_eq!(
            Config::load(&demo, &HashMap::new()).unwrap().store.backend,
            "memory"
        );
        let e = env(&[
            ("MATINEE_STORE__BACKEND", "local"),
            ("MATINEE_STORE__REDIS__LEASE_MS", "9000"),
        ]);
        let c = Config::load(&demo, &e).unwrap();
        assert_eq!(
            c.store.backend, "local",
            "an explicit choice wins in demo mode"
        );
        assert_eq!(
            c.store.redis.lease_ms, 9000,
            "nested keys come from the environment"
        );
        let e = env(&[("MATINEE_STORE__BACKEND", "disk")]);
        assert!(Config::load(&demo, &e)
            .unwrap_err()
            .contains("store.backend"));
    }

    #[test]
    fn demo_changes_defaults_but_explicit_listen_wins() {
        let cli = CliOverrides {
            demo: true,
            ..Default::default()
        };
        let c = Config::load(&cli, &HashMap::new()).unwrap();
        assert_eq!(c.listen_addr().unwrap().to_string(), "127.0.0.1:3000");
        assert!(c.auth.allow_anonymous && c.demo.enabled);
        let e = env(&[("MATINEE_SERVER__LISTEN", "127.0.0.1:4000")]);
        assert_eq!(
            Config::load(&cli, &e)
                .unwrap()
                .listen_addr()
                .unwrap()
                .port(),
            4000
        );
        let cli2 = CliOverrides {
            listen: Some("127.0.0.1:0".into()),
            ..cli
        };
        assert_eq!(
            Config::load(&cli2, &e)
                .unwrap()
                .listen_addr()
                .unwrap()
                .port(),
            0
        );
    }

    #[test]
    fn env_lists_and_numbers() {
        let e = env(&[
            (
                "MATINEE_SERVER__ALLOWED_ORIGINS",
                "https://a.example,https://b.example",
            ),
            ("MATINEE_LIMITS__MAX_MEMBERS", "7"),
            ("MATINEE_CONFIG", "/nonexistent-is-ignored-here"),
        ]);
        let c = Config::load(&CliOverrides::default(), &e).unwrap();
        assert_eq!(
            c.server.allowed_origins,
            vec!["https://a.example", "https://b.example"]
        );
        assert_eq!(c.limits.max_members, 7);
    }

    #[test]
    fn bad_values_are_refused_with_the_key() {
        let e = env(&[("MATINEE_LOG__FORMAT", "xml")]);
        assert!(Config::load(&CliOverrides::default(), &e)
            .unwrap_err()
            .contains("log.format"));
        let e = env(&[("MATINEE_SERVER__LISTEN", "nowhere")]);
        assert!(Config::load(&CliOverrides::default(), &e)
            .unwrap_err()
            .contains("server.listen"));
        let e = env(&[("MATINEE_SERVER__BOGUS", "1")]);
        assert!(Config::load(&CliOverrides::default(), &e).is_err());
    }

    #[test]
    fn masked_toml_hides_credentials_in_urls() {
        let mut c = Config::default();
        c.jellyfin.url = Some("https://admin:hunter2@jf.example/base".into());
        let out = to_masked_toml(&c);
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("https://***@jf.example/base"), "{out}");
        assert_eq!(mask_userinfo("http://jf:8096/x@y"), "http://jf:8096/x@y");
    }

    #[test]
    fn masked_toml_hides_secrets_and_round_trips() {
        let c = Config::default();
        let t = to_masked_toml(&c);
        assert!(t.contains("[limits]\n"));
        assert!(t.contains("max_frame_bytes = 16384"));
        let mut out = String::new();
        write_table(
            &mut out,
            "x",
            &serde_json::json!({"api_key": "abc", "db_password": "", "name": "n"}),
        );
        assert!(out.contains("api_key = \"***\""));
        assert!(!out.contains("abc"));
        assert!(out.contains("db_password = \"\""));
        // What we print is valid TOML that loads back into the same configuration.
        let parsed: Config = config::Config::builder()
            .add_source(config::File::from_str(&t, config::FileFormat::Toml))
            .build()
            .unwrap()
            .try_deserialize()
            .unwrap();
        assert_eq!(parsed, c);
    }
}
