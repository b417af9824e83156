//! A real `redis-server` on a free loopback port, in its own temp folder, with persistence off;
//! stopped (SIGKILL) when dropped. Shared by the store's and the server's Redis tests.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running Redis.
pub struct Redis {
    /// Its port on 127.0.0.1.
    pub port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// A port nobody listens on right now (bound then released; Redis binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Redis {
    /// Start one on a fresh port.
    pub fn start() -> Redis {
        Redis::start_on(free_port())
    }

    /// Start one on `port` (to restart "the same" Redis after [`Redis::stop`]).
    pub fn start_on(port: u16) -> Redis {
        let dir = std::env::temp_dir().join(format!("matinee-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
            ])
            .arg(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed (apt-get install redis-server)");
        let r = Redis {
            port,
            dir,
            child: Some(child),
        };
        r.wait_ready();
        r
    }

    /// `redis://127.0.0.1:<port>/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn wait_ready(&self) {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) {
                use std::io::{Read, Write};
                let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
                if s.write_all(b"PING\r\n").is_ok() {
                    let mut buf = [0u8; 16];
                    if let Ok(n) = s.read(&mut buf) {
                        if buf[..n].starts_with(b"+PONG") {
                            return;
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("redis-server did not start on port {}", self.port);
    }

    /// How many keys match `pattern` (`KEYS`, fine on a test instance), over a raw connection.
    pub fn count_keys(&self, pattern: &str) -> usize {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return 0;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let cmd = format!("*2\r\n$4\r\nKEYS\r\n${}\r\n{pattern}\r\n", pattern.len());
        if s.write_all(cmd.as_bytes()).is_err() {
            return 0;
        }
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).unwrap_or(0);
        // The reply starts with `*<count>\r\n`.
        std::str::from_utf8(&buf[..n])
            .ok()
            .and_then(|t| t.strip_prefix('*'))
            .and_then(|t| t.split("\r\n").next())
            .and_then(|c| c.parse().ok())
            .unwrap_or(0)
    }

    /// The value of `key` (a bulk string), over a raw connection; `None` when absent.
    pub fn get(&self, key: &str) -> Option<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let cmd = format!("*2\r\n$3\r\nGET\r\n${}\r\n{key}\r\n", key.len());
        s.write_all(cmd.as_bytes()).ok()?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 65536];
        loop {
            let n = s.read(&mut chunk).ok()?;
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf).into_owned();
            let (head, rest) = text.split_once("\r\n")?;
            let len: i64 = head.strip_prefix('$')?.parse().ok()?;
            if len < 0 {
                return None;
            }
            if rest.len() >= len as usize {
                return Some(rest[..len as usize].to_owned());
            }
            if n == 0 {
                return None;
            }
        }
    }

    /// Freeze it (`SIGSTOP`): connections stay open, commands wait unanswered, as with a
    /// Redis stalled by the machine or the network; [`Redis::thaw`] lets it go on.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Let a frozen Redis go on (`SIGCONT`), with everything it held.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, sig: &str) {
        let pid = self.child.as_ref().expect("redis is running").id();
        let ok = Command::new("kill")
            .args([sig, &pid.to_string()])
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        assert!(ok, "kill {sig} {pid}");
    }

    /// Kill it (as a crash would); its port becomes free again.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
