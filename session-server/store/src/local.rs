//! The embedded store: one JSON file per room in `<data_dir>/rooms/`, written atomically by a
//! single writer task that coalesces changes.
//!
//! - **Atomic**: a room is written to `<CODE>.json.tmp`, `fsync`ed, renamed over `<CODE>.json`,
//!   and the directory is `fsync`ed, so after a crash a file is either the old snapshot or the
//!   new one, never a mix (POSIX `rename(2)` replaces atomically).
//! - **Coalesced**: rooms hand their latest snapshot to [`LocalStore::save`], which only
//!   replaces the room's pending entry (latest wins; bounded by the number of rooms) and never
//!   blocks or touches the disk. The writer wakes at most every `flush_interval`, so a `kill -9`
//!   loses at most that much (default 250 ms; the configuration refuses more than 1 s), and a
//!   room that changes 50 times in a second is written once.
//! - **Load on start**: [`LocalStore::open`] reads every room file. One that cannot be read as
//!   a room of this [`FORMAT`](crate::snapshot::FORMAT) is logged with the reason and moved to
//!   `<data_dir>/rooms/rejected/`, never deleted and never loaded again; the rest start clean.
//!
//! - **Disk faults**: a write that fails (folder read-only, disk full, I/O error) keeps the
//!   room's newest snapshot pending and is retried every [`RETRY`]; files already written are
//!   never touched by a failed write (the temp file is what fails, and it is removed). The
//!   fault is logged once when it starts and once when writes succeed again, and
//!   [`LocalStore::fault`] says why meanwhile (`/readyz` answers 503 with it). A rooms folder
//!   found missing (removed while running) is created again and every room written again.
//! - **One process per data directory**: [`LocalStore::open`] takes an exclusive lock on
//!   `<data_dir>/matinee.lock` for the life of the store; a second server pointed at the same
//!   folder refuses to start (two writers would overwrite each other's rooms).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

/// Pause between two attempts while writes fail.
pub const RETRY: Duration = Duration::from_secs(1);
/// The lock file in the data directory.
pub const LOCK_FILE: &str = "matinee.lock";

use crate::snapshot::{decode, encode, DecodeError, RoomSnapshot};

/// Subfolder of the data directory holding room files.
pub const ROOMS_DIR: &str = "rooms";
/// Subfolder of the rooms folder where unreadable files are kept aside.
pub const REJECTED_DIR: &str = "rejected";

/// What the writer will do to a room at the next flush.
#[derive(Clone, Debug)]
enum Pending {
    Save(Box<RoomSnapshot>),
    Remove,
}

/// A file that was not loaded, and where it went.
#[derive(Clone, Debug)]
pub struct Rejected {
    /// The original file.
    pub file: PathBuf,
    /// Where it was moved to.
    pub kept_at: PathBuf,
    /// Why.
    pub error: DecodeError,
}

/// What [`LocalStore::open`] found.
#[derive(Debug, Default)]
pub struct Loaded {
    /// Rooms to restore.
    pub rooms: Vec<RoomSnapshot>,
    /// Files kept aside.
    pub rejected: Vec<Rejected>,
}

/// The embedded store of one server process.
pub struct LocalStore {
    rooms_dir: PathBuf,
    flush_interval: Duration,
    pending: Mutex<HashMap<String, Pending>>,
    wake: Notify,
    /// Serializes flushes (the writer's and an explicit one on shutdown): two batches never
    /// write the same temp file at once. A tokio mutex because it is held across the
    /// blocking write.
    writing: tokio::sync::Mutex<()>,
    /// The last snapshot on disk per room, to write every room again into a rooms folder
    /// found missing.
    written: Mutex<HashMap<String, Box<RoomSnapshot>>>,
    /// Why writes fail, while they do.
    fault: Mutex<Option<String>>,
    /// The data directory's lock, held as long as the store lives.
    _lock: File,
}

impl LocalStore {
    /// Open (creating it if needed) the store under `data_dir`, load its rooms and keep
    /// unreadable files aside with a log line each. Fails only when the folder itself cannot
    /// be created or read — a server told to keep rooms that cannot must not start silently
    /// without them.
    pub fn open(
        data_dir: &Path,
        flush_interval: Duration,
    ) -> io::Result<(Arc<LocalStore>, Loaded)> {
        let rooms_dir = data_dir.join(ROOMS_DIR);
        fs::create_dir_all(&rooms_dir).map_err(|e| annotate(e, &rooms_dir))?;
        let lock = lock_dir(data_dir)?;
        let loaded = load_dir(&rooms_dir)?;
        let written = loaded
            .rooms
            .iter()
            .map(|r| (r.code.clone(), Box::new(r.clone())))
            .collect();
        let store = Arc::new(LocalStore {
            rooms_dir,
            flush_interval,
            pending: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            writing: tokio::sync::Mutex::new(()),
            written: Mutex::new(written),
            fault: Mutex::new(None),
            _lock: lock,
        });
        Ok((store, loaded))
    }

    /// The folder holding the room files.
    pub fn rooms_dir(&self) -> &Path {
        &self.rooms_dir
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why room state cannot be written right now (`None`: the last writes succeeded).
    pub fn fault(&self) -> Option<String> {
        self.fault.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Record the outcome of a flush that wrote something; log the changes of state.
    fn set_fault(&self, now: Option<String>) {
        let mut f = self.fault.lock().unwrap_or_else(|p| p.into_inner());
        match (&*f, &now) {
            (None, Some(why)) => tracing::error!(
                dir = %self.rooms_dir.display(),
                error = %why,
                "room state cannot be written: rooms go on in memory, files already written are kept, retrying every second; /readyz is 503"
            ),
            (Some(_), None) => tracing::info!(
                dir = %self.rooms_dir.display(),
                "room state is written again"
            ),
            _ => {}
        }
        *f = now;
    }

    /// Schedule `snap` to be written (replacing anything pending for that room). Never
    /// blocks on the disk: callable from a room task.
    pub fn save(&self, snap: RoomSnapshot) {
        let code = snap.code.clone();
        self.lock().insert(code, Pending::Save(Box::new(snap)));
        self.wake.notify_one();
    }

    /// Schedule the room's file to be removed (the room has closed).
    pub fn remove(&self, code: &str) {
        self.lock().insert(code.to_owned(), Pending::Remove);
        self.wake.notify_one();
    }

    /// Number of rooms waiting for the next flush.
    pub fn pending(&self) -> usize {
        self.lock().len()
    }

    /// Write everything pending now. Errors are logged per room and the room is retried at
    /// the next flush (a full disk must not lose the newest snapshot for good).
    pub async fn flush(self: &Arc<Self>) -> io::Result<()> {
        let _guard = self.writing.lock().await;
        let batch: Vec<(String, Pending)> = self.lock().drain().collect();
        if batch.is_empty() {
            return Ok(());
        }
        let me = self.clone();
        let (failed, first_error) = tokio::task::spawn_blocking(move || me.write_batch(batch))
            .await
            .map_err(io::Error::other)?;
        if failed.is_empty() {
            self.set_fault(None);
            return Ok(());
        }
        let n = failed.len();
        let why = first_error.unwrap_or_default();
        {
            let mut map = self.lock();
            for (code, p) in failed {
                // A newer change that arrived meanwhile wins over the failed one.
                map.entry(code).or_insert(p);
            }
        }
        self.set_fault(Some(why.clone()));
        Err(io::Error::other(format!(
            "{n} room(s) could not be written: {why}"
        )))
    }

    /// The writer: flush at most every `flush_interval` while there are changes, until
    /// `stop` resolves; then a last flush. Run it as one task per store.
    pub async fn run_writer<F: std::future::Future>(self: Arc<Self>, stop: F) {
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = self.wake.notified() => {}
                _ = &mut stop => break,
            }
            // Let changes gather for one interval: one write per room per interval.
            tokio::select! {
                _ = tokio::time::sleep(self.flush_interval) => {}
                _ = &mut stop => break,
            }
            if let Err(e) = self.flush().await {
                // Logged when the fault starts and ends (`set_fault`), not at every attempt.
                tracing::debug!(error = %e, "room state not written; retrying");
                tokio::select! {
                    _ = tokio::time::sleep(RETRY) => {}
                    _ = &mut stop => break,
                }
                self.wake.notify_one();
            }
        }
        if let Err(e) = self.flush().await {
            tracing::error!(error = %e, "final room state not written");
        }
    }

    /// Apply a batch; returns the entries that failed and the first error.
    fn write_batch(
        &self,
        mut batch: Vec<(String, Pending)>,
    ) -> (Vec<(String, Pending)>, Option<String>) {
        let mut failed = Vec::new();
        let mut first_error = None;
        if !self.rooms_dir.is_dir() && fs::create_dir_all(&self.rooms_dir).is_ok() {
            // Removed while running: every room that was on disk is written again.
            let written = self.written.lock().unwrap_or_else(|p| p.into_inner());
            let again: Vec<(String, Pending)> = written
                .iter()
                .filter(|(code, _)| !batch.iter().any(|(c, _)| c == *code))
                .map(|(code, snap)| (code.clone(), Pending::Save(snap.clone())))
                .collect();
            tracing::warn!(
                dir = %self.rooms_dir.display(),
                rooms = again.len() + batch.len(),
                "the rooms folder was missing (removed while running): created again, every room written again"
            );
            batch.extend(again);
        }
        for (code, p) in batch {
            let r = match &p {
                Pending::Save(snap) => self.write_one(&code, snap),
                Pending::Remove => match fs::remove_file(self.file_of(&code)) {
                    Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
                    _ => Ok(()),
                },
            };
            match r {
                Ok(()) => {
                    let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
                    match p {
                        Pending::Save(snap) => {
                            written.insert(code, snap);
                        }
                        Pending::Remove => {
                            written.remove(&code);
                        }
                    }
                }
                Err(e) => {
                    tracing::debug!(room = %code, error = %e, "room state write failed");
                    first_error.get_or_insert_with(|| e.to_string());
                    failed.push((code, p));
                }
            }
        }
        // One directory fsync makes every rename and removal of the batch durable.
        if let Err(e) = sync_dir(&self.rooms_dir) {
            tracing::warn!(error = %e, "room state folder not synced");
        }
        (failed, first_error)
    }

    fn file_of(&self, code: &str) -> PathBuf {
        self.rooms_dir.join(format!("{code}.json"))
    }

    fn write_one(&self, code: &str, snap: &RoomSnapshot) -> io::Result<()> {
        // Codes come from the server's own alphabet; refuse anything else rather than build
        // a path from it.
        if code.is_empty() || !code.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "bad room code"));
        }
        let tmp = self.rooms_dir.join(format!("{code}.json.tmp"));
        let written = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&tmp)
            .and_then(|mut f| {
                f.write_all(&encode(snap))?;
                f.sync_all()
            });
        if let Err(e) = written {
            // A partial temp file would only hold space a full disk needs; the room's file
            // is untouched.
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        fs::rename(&tmp, self.file_of(code))
    }
}

/// Take the data directory's lock, or say which folder is in use.
fn lock_dir(data_dir: &Path) -> io::Result<File> {
    let path = data_dir.join(LOCK_FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| annotate(e, &path))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(io::Error::new(
            io::ErrorKind::WouldBlock,
            format!(
                "{} is locked: another matinee-server uses this data directory (one server per data directory)",
                path.display()
            ),
        )),
        Err(fs::TryLockError::Error(e)) => Err(annotate(e, &path)),
    }
}

fn annotate(e: io::Error, path: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", path.display()))
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Read every `<CODE>.json`; remove stale temp files (a crash between write and rename left
/// them; the previous snapshot is intact); keep unreadable files aside.
fn load_dir(dir: &Path) -> io::Result<Loaded> {
    let mut out = Loaded::default();
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(|e| annotate(e, dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name.ends_with(".json.tmp") {
            let _ = fs::remove_file(&path);
            continue;
        }
        let Some(stem) = name.strip_suffix(".json") else {
            continue;
        };
        let result = fs::read(&path)
            .map_err(|e| DecodeError::Corrupt(format!("unreadable ({e})")))
            .and_then(|b| decode(&b))
            .and_then(|s| {
                if s.code == stem {
                    Ok(s)
                } else {
                    Err(DecodeError::Corrupt(format!(
                        "file of room {stem} holds room {}",
                        s.code
                    )))
                }
            });
        match result {
            Ok(s) => out.rooms.push(s),
            Err(error) => {
                let kept_at = keep_aside(dir, &path, &name);
                tracing::error!(
                    file = %path.display(),
                    kept_at = %kept_at.display(),
                    error = %error,
                    "room state not restored; the file is kept aside and the room starts over"
                );
                out.rejected.push(Rejected {
                    file: path,
                    kept_at,
                    error,
                });
            }
        }
    }
    Ok(out)
}

/// Move a bad file to `rejected/<name>.<unix ms>` (a unique name: a second bad file of the
/// same room never overwrites the first). If even that fails, the file stays where it is but
/// is renamed out of the `.json` pattern so it is not read again.
fn keep_aside(dir: &Path, path: &Path, name: &str) -> PathBuf {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let rejected = dir.join(REJECTED_DIR);
    let target = rejected.join(format!("{name}.{ms}"));
    if fs::create_dir_all(&rejected).is_ok() && fs::rename(path, &target).is_ok() {
        let _ = sync_dir(dir);
        return target;
    }
    let fallback = dir.join(format!("{name}.rejected.{ms}"));
    let _ = fs::rename(path, &fallback);
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::tests::sample;

    fn tempdir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "matinee-store-{tag}-{}-{:x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[tokio::test]
    async fn saves_are_written_atomically_and_load_back() {
        let dir = tempdir("rt");
        let (store, loaded) = LocalStore::open(&dir, Duration::from_millis(10)).unwrap();
        assert!(loaded.rooms.is_empty() && loaded.rejected.is_empty());
        store.save(sample("ACDEFG"));
        store.save(sample("HJKMNP"));
        store.flush().await.unwrap();
        assert_eq!(store.pending(), 0);
        let files: Vec<String> = fs::read_dir(store.rooms_dir())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert!(files.iter().all(|f| !f.ends_with(".tmp")), "{files:?}");
        let loaded = reload(&dir);
        let mut codes: Vec<_> = loaded.rooms.iter().map(|r| r.code.clone()).collect();
        codes.sort();
        assert_eq!(codes, ["ACDEFG", "HJKMNP"]);
        assert_eq!(loaded.rooms[0], sample("ACDEFG"));
        // A closed room's file goes.
        store.remove("ACDEFG");
        store.flush().await.unwrap();
        let loaded = reload(&dir);
        assert_eq!(loaded.rooms.len(), 1);
        let _ = fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn the_latest_snapshot_of_a_room_wins() {
        let dir = tempdir("latest");
        let (store, _) = LocalStore::open(&dir, Duration::from_millis(10)).unwrap();
        for rev in 1..=50 {
            let mut s = sample("ACDEFG");
            s.revision = rev;
            store.save(s);
        }
        assert_eq!(store.pending(), 1, "coalesced to one pending write");
        store.flush().await.unwrap();
        let loaded = reload(&dir);
        assert_eq!(loaded.rooms[0].revision, 50);
        let _ = fs::remove_dir_all(dir);
    }

    #[tokio::test(start_paused = true)]
    async fn the_writer_flushes_within_one_interval_and_once_more_on_stop() {
        let dir = tempdir("writer");
        let (store, _) = LocalStore::open(&dir, Duration::from_millis(250)).unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let writer = tokio::spawn(store.clone().run_writer(async {
            let _ = stop_rx.await;
        }));
        let file = store.rooms_dir().join("ACDEFG.json");
        store.save(sample("ACDEFG"));
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!file.exists(), "changes gather for one interval");
        // Past the interval, the write itself runs on a blocking thread: give it real time.
        tokio::time::sleep(Duration::from_millis(200)).await;
        wait_for(|| file.exists()).await;
        // A change right before stop is still written by the final flush.
        store.save(sample("HJKMNP"));
        stop_tx.send(()).unwrap();
        writer.await.unwrap();
        assert!(store.rooms_dir().join("HJKMNP.json").exists());
        let _ = fs::remove_dir_all(dir);
    }

    /// What a restart would load, read while the store still runs (and holds the lock).
    fn reload(dir: &Path) -> Loaded {
        load_dir(&dir.join(ROOMS_DIR)).unwrap()
    }

    #[test]
    fn a_second_store_on_the_same_folder_is_refused_until_the_first_is_gone() {
        let dir = tempdir("lock");
        let (first, _) = LocalStore::open(&dir, Duration::from_millis(10)).unwrap();
        let e = LocalStore::open(&dir, Duration::from_millis(10))
            .err()
            .unwrap();
        assert!(e.to_string().contains("another matinee-server"), "{e}");
        drop(first);
        assert!(LocalStore::open(&dir, Duration::from_millis(10)).is_ok());
        let _ = fs::remove_dir_all(dir);
    }

    async fn wait_for(mut f: impl FnMut() -> bool) {
        for _ in 0..500 {
            if f() {
                return;
            }
            // Real time passes while the blocking write runs (paused time auto-advances
            // only when every task is idle, which a blocking thread is not seen as).
            std::thread::sleep(Duration::from_millis(5));
            tokio::task::yield_now().await;
        }
        panic!("condition not reached");
    }

    #[tokio::test]
    async fn unreadable_files_are_kept_aside_and_the_rest_load() {
        let dir = tempdir("bad");
        let rooms = dir.join(ROOMS_DIR);
        fs::create_dir_all(&rooms).unwrap();
        fs::write(rooms.join("ACDEFG.json"), encode(&sample("ACDEFG"))).unwrap();
        fs::write(rooms.join("HJKMNP.json"), b"{\"format\":1,\"code\":").unwrap();
        let mut future = serde_json::to_value(sample("QRTWXY")).unwrap();
        future["format"] = 9.into();
        fs::write(
            rooms.join("QRTWXY.json"),
            serde_json::to_vec(&future).unwrap(),
        )
        .unwrap();
        // A file named for one room holding another is not trusted either.
        fs::write(rooms.join("CDEFGH.json"), encode(&sample("ACDEFG"))).unwrap();
        // A crash between write and rename leaves a temp file: ignored and cleaned.
        fs::write(rooms.join("ACDEFG.json.tmp"), b"half").unwrap();

        let (_store, loaded) = LocalStore::open(&dir, Duration::from_millis(10)).unwrap();
        assert_eq!(loaded.rooms.len(), 1);
        assert_eq!(loaded.rooms[0].code, "ACDEFG");
        assert_eq!(loaded.rejected.len(), 3);
        let incompatible = loaded
            .rejected
            .iter()
            .find(|r| r.file.ends_with("QRTWXY.json"))
            .unwrap();
        assert_eq!(incompatible.error, DecodeError::Incompatible { found: 9 });
        for r in &loaded.rejected {
            assert!(!r.file.exists(), "moved away: {}", r.file.display());
            assert!(r.kept_at.exists(), "kept: {}", r.kept_at.display());
            assert!(r.kept_at.starts_with(rooms.join(REJECTED_DIR)));
        }
        assert!(!rooms.join("ACDEFG.json.tmp").exists());
        // Kept-aside files are not read again: the next start is clean.
        drop(_store);
        let (_store, again) = LocalStore::open(&dir, Duration::from_millis(10)).unwrap();
        assert_eq!(again.rooms.len(), 1);
        assert!(again.rejected.is_empty());
        let _ = fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_failed_write_is_retried_and_does_not_lose_the_snapshot() {
        let dir = tempdir("fail");
        let (store, _) = LocalStore::open(&dir, Duration::from_millis(10)).unwrap();
        // A directory where the temp file should go makes the write fail.
        fs::create_dir_all(store.rooms_dir().join("ACDEFG.json.tmp")).unwrap();
        store.save(sample("ACDEFG"));
        assert!(store.flush().await.is_err());
        assert_eq!(store.pending(), 1, "kept for the next flush");
        fs::remove_dir(store.rooms_dir().join("ACDEFG.json.tmp")).unwrap();
        store.flush().await.unwrap();
        assert!(store.rooms_dir().join("ACDEFG.json").exists());
        let _ = fs::remove_dir_all(dir);
    }

    #[test]
    fn an_uncreatable_data_dir_is_an_error_naming_it() {
        let dir = tempdir("file");
        let blocker = dir.join("not-a-dir");
        fs::write(&blocker, b"x").unwrap();
        let e = LocalStore::open(&blocker, Duration::from_millis(10))
            .err()
            .unwrap();
        assert!(e.to_string().contains("not-a-dir"), "{e}");
        let _ = fs::remove_dir_all(dir);
    }
}
