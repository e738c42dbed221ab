//! Running one agent process to its end: spawn it in its own process group, stream its output,
//! enforce its timeouts, stop it on request, and record what happened (spec §4.5, §5.1, §6).
//!
//! The whole life of the process is one `select!` loop owned by a single future, in the shape of
//! nextest's executor: output draining, the exit, the wall-clock and idle deadlines, the grace
//! deadline of a stop under way, and the cancel channel are all branches of that loop, so there are
//! no shared flags and no fixed sleeps: a stop always races the exit against the grace timer.
//!
//! Decisions about what the outcome *means* (crash, timeout, usage limit…) are not made here; the
//! [`ProcessOutcome`] holds only facts, and the backends classify them.

use std::future::{Future, pending};
use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, Command};
use tokio::time::{Instant, sleep_until};

use crate::agent::{
    AgentEvent, CommandSpec, OutputParser, ProcessOutcome, StdinInput, TimeoutKind,
};

use super::cancel::{CancelHandle, StopRequest};
use super::collect::{Collector, Stream};
use super::group::{GroupGuard, signal_group};
use super::lines::LineSplitter;
use super::transcript::Transcript;

/// Bytes asked for per pipe read: the default Linux pipe capacity, so one read usually empties it.
const READ_CHUNK: usize = 64 * 1024;

/// How one agent process is watched. Built per role from the config (the planner may be slow, the
/// validator fast).
#[derive(Debug, Clone)]
pub struct SuperviseOptions {
    /// Where the raw output goes (created with its parent directories, appended to). `None` keeps
    /// no transcript.
    pub transcript_path: Option<PathBuf>,
    /// Wall-clock limit from spawn.
    pub timeout: Option<Duration>,
    /// Limit on silence: restarted by every chunk of output on either stream.
    pub idle_timeout: Option<Duration>,
    /// How long a stop waits after SIGTERM/SIGINT before SIGKILL.
    pub grace: Duration,
    /// How long to keep reading after the agent exited and its group was killed. Only a process
    /// that left the group (its own `setsid`) can still hold the pipes then; it must not keep
    /// `teams` waiting.
    pub drain_timeout: Duration,
    /// Longest line handed to the parser; longer lines are cut (the transcript keeps them whole).
    pub max_line_bytes: usize,
    /// Bytes of stdout and of stderr kept as evidence in the outcome.
    pub tail_bytes: usize,
    /// Most stream error messages kept in the outcome.
    pub max_stream_errors: usize,
    /// Stop the agent once it retries in vain like this (see [`GiveUp`]); `None`: never.
    pub give_up: Option<GiveUp>,
}

/// A retry that cannot succeed: the CLI's own retry events ([`AgentEvent::Retry`]) saying what
/// only the user can fix. Claude Code retries a refused API key ten times over about three
/// minutes before it reports it, so without this a revoked key costs minutes of waiting. The
/// agent layer says which words mark such a retry (a backend's not-logged-in patterns); the
/// process layer only counts them. A stopped agent's matching retry messages are kept as stream
/// errors, so the classification sees why it was stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiveUp {
    /// Lowercase words; a retry message containing any of them counts.
    pub patterns: &'static [&'static str],
    /// After this many counted retries in a row the agent is stopped (SIGTERM, then SIGKILL after
    /// the grace period). More than one, because a first refusal may be an expired session token
    /// the CLI refreshes on its own.
    pub after: u32,
}

impl Default for SuperviseOptions {
    fn default() -> Self {
        Self {
            transcript_path: None,
            timeout: None,
            idle_timeout: None,
            grace: Duration::from_secs(10),
            drain_timeout: Duration::from_secs(1),
            // A Claude stream-json line carries whole tool results (a file read in full), so the cap
            // is generous; it exists to bound memory, not to trim ordinary lines.
            max_line_bytes: 4 * 1024 * 1024,
            tail_bytes: 16 * 1024,
            max_stream_errors: 100,
            give_up: None,
        }
    }
}

/// Runs the agent described by `spec` to its end and returns what happened.
///
/// Every output line goes to `parser`, and every event it yields goes to `on_event` as it arrives
/// (for live progress). The future is `Send` when `on_event` is, so it can be `tokio::spawn`ed. If
/// it is dropped before completion, the agent's whole process group is killed.
///
/// `cancel` may already be triggered: the process is then not started at all.
pub async fn supervise<F>(
    spec: CommandSpec,
    parser: Box<dyn OutputParser>,
    opts: SuperviseOptions,
    cancel: CancelHandle,
    on_event: F,
) -> ProcessOutcome
where
    F: FnMut(&AgentEvent),
{
    let started = Instant::now();
    let mut outcome = ProcessOutcome::default();
    let mut cancel_rx = cancel.subscribe();
    if *cancel_rx.borrow_and_update() != StopRequest::None {
        outcome.cancelled = true;
        return outcome;
    }

    let transcript = match &opts.transcript_path {
        None => Transcript::none(),
        Some(path) => match Transcript::open(path) {
            Ok(t) => t,
            Err(e) => {
                // Running an agent whose output cannot be recorded would leave no evidence behind.
                outcome.spawn_error = Some(format!(
                    "failed to open the transcript {}: {e}",
                    path.display()
                ));
                return outcome;
            }
        },
    };

    let mut child = match command(&spec).spawn() {
        Ok(child) => child,
        Err(e) => {
            outcome.spawn_error = Some(format!(
                "failed to start `{}`: {e}",
                spec.program.to_string_lossy()
            ));
            outcome.duration = started.elapsed();
            return outcome;
        }
    };
    let Some(pid) = child.id() else {
        // Only possible once the child was reaped, which nothing did yet.
        outcome.spawn_error = Some("failed to get the pid of the started agent".to_owned());
        return outcome;
    };
    outcome.pid = Some(pid);
    tracing::debug!(pid, program = ?spec.program, "agent started");
    let mut on_event = on_event;
    on_event(&AgentEvent::Spawned { pid });

    let mut collector = Collector::new(
        parser,
        on_event,
        transcript,
        opts.tail_bytes,
        opts.max_stream_errors,
        opts.give_up.clone(),
    );
    let run = run_loop(
        &mut child,
        pid,
        spec.stdin,
        &opts,
        &mut cancel_rx,
        started,
        &mut collector,
    )
    .await;
    let collected = collector.finish();

    if let Some(status) = run.status {
        outcome.exit_code = status.code();
        outcome.signal = std::os::unix::process::ExitStatusExt::signal(&status);
    }
    outcome.timeout = match run.cause {
        Some(StopCause::Timeout(kind)) => Some(kind),
        _ => None,
    };
    outcome.cancelled = run.cause == Some(StopCause::Cancel);
    outcome.final_report = collected.final_report;
    outcome.stream_errors = collected.stream_errors;
    outcome.stdout_tail = collected.stdout_tail;
    outcome.stderr_tail = collected.stderr_tail;
    outcome.truncated_lines = collected.truncated_lines;
    outcome.transcript_error = collected.transcript_error;
    outcome.output_bytes = run.output_bytes;
    outcome.duration = started.elapsed();
    tracing::debug!(pid, exit_code = ?outcome.exit_code, signal = ?outcome.signal, "agent ended");
    outcome
}

fn command(spec: &CommandSpec) -> Command {
    let mut cmd = Command::new(&spec.program);
    for name in crate::agent::withheld() {
        cmd.env_remove(name);
    }
    cmd.args(&spec.args)
        .envs(spec.env.iter().map(|(k, v)| (k, v)))
        .current_dir(&spec.cwd)
        .stdin(match spec.stdin {
            // Some CLIs block while stdin is an open pipe (research §3.4), hence /dev/null.
            StdinInput::Null => Stdio::null(),
            StdinInput::Bytes(_) => Stdio::piped(),
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own group: a terminal Ctrl-C reaches only `teams`, and a stop reaches every
        // descendant through the negative pid.
        .process_group(0)
        // Backstop only (it kills the leader, not the group); the group guard does the real work.
        .kill_on_drop(true);
    cmd
}

/// Why `teams` stopped the process; the first cause wins, later requests only escalate the signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StopCause {
    Timeout(TimeoutKind),
    Cancel,
    /// The agent kept retrying in vain ([`GiveUp`]).
    GaveUp,
}

/// The stop under way, if any.
#[derive(Debug)]
struct Stopper {
    pgid: u32,
    grace: Duration,
    cause: Option<StopCause>,
    /// When SIGKILL follows the polite signal already sent.
    kill_at: Option<Instant>,
    killed: bool,
}

impl Stopper {
    /// Sends a polite signal to the group and starts the grace period (once: a second polite
    /// signal does not extend it).
    fn polite(&mut self, cause: StopCause, signal: Signal) {
        self.cause.get_or_insert(cause);
        if self.killed {
            return;
        }
        tracing::debug!(pgid = self.pgid, ?signal, ?cause, "stopping agent group");
        if let Err(e) = signal_group(self.pgid, signal) {
            tracing::warn!(pgid = self.pgid, "failed to signal the agent group: {e}");
        }
        self.kill_at.get_or_insert(Instant::now() + self.grace);
    }

    fn kill(&mut self, cause: StopCause) {
        self.cause.get_or_insert(cause);
        if self.killed {
            return;
        }
        tracing::debug!(pgid = self.pgid, ?cause, "killing agent group");
        if let Err(e) = signal_group(self.pgid, Signal::SIGKILL) {
            tracing::warn!(pgid = self.pgid, "failed to kill the agent group: {e}");
        }
        self.killed = true;
        self.kill_at = None;
    }

    fn apply(&mut self, request: StopRequest) {
        match request {
            StopRequest::None => {}
            StopRequest::Interrupt => self.polite(StopCause::Cancel, Signal::SIGINT),
            StopRequest::Terminate => self.polite(StopCause::Cancel, Signal::SIGTERM),
            StopRequest::Kill => self.kill(StopCause::Cancel),
        }
    }
}

/// One output pipe and what is needed to read it.
struct Pipe<R> {
    reader: Option<R>,
    splitter: LineSplitter,
    buf: Box<[u8]>,
    stream: Stream,
}

impl<R> Pipe<R> {
    fn new(reader: Option<R>, stream: Stream, max_line: usize) -> Self {
        Self {
            reader,
            splitter: LineSplitter::new(max_line),
            buf: vec![0; READ_CHUNK].into_boxed_slice(),
            stream,
        }
    }

    fn is_open(&self) -> bool {
        self.reader.is_some()
    }

    /// Handles the result of one read; returns the number of bytes it carried.
    fn on_read<F: FnMut(&AgentEvent)>(
        &mut self,
        read: io::Result<usize>,
        collector: &mut Collector<F>,
    ) -> usize {
        match read {
            Ok(n) if n > 0 => {
                let stream = self.stream;
                self.splitter
                    .feed(&self.buf[..n], &mut |piece| collector.piece(stream, piece));
                n
            }
            // EOF, or a read error, which on a pipe means it is unusable: either way, done.
            _ => {
                self.close(collector);
                0
            }
        }
    }

    fn close<F: FnMut(&AgentEvent)>(&mut self, collector: &mut Collector<F>) {
        if self.reader.take().is_some() {
            let stream = self.stream;
            self.splitter
                .finish(&mut |piece| collector.piece(stream, piece));
        }
    }
}

/// What the loop observed.
struct RunResult {
    status: Option<ExitStatus>,
    cause: Option<StopCause>,
    output_bytes: u64,
}

async fn run_loop<F: FnMut(&AgentEvent)>(
    child: &mut Child,
    pid: u32,
    stdin_input: StdinInput,
    opts: &SuperviseOptions,
    cancel_rx: &mut tokio::sync::watch::Receiver<StopRequest>,
    started: Instant,
    collector: &mut Collector<F>,
) -> RunResult {
    let mut guard = GroupGuard::new(pid);
    let mut stopper = Stopper {
        pgid: pid,
        grace: opts.grace,
        cause: None,
        kill_at: None,
        killed: false,
    };
    let mut stdout = Pipe::new(child.stdout.take(), Stream::Stdout, opts.max_line_bytes);
    let mut stderr = Pipe::new(child.stderr.take(), Stream::Stderr, opts.max_line_bytes);
    let mut stdin_write = match (stdin_input, child.stdin.take()) {
        (StdinInput::Bytes(bytes), Some(stdin)) => Some(Box::pin(write_stdin(stdin, bytes))),
        _ => None,
    };
    let wall_deadline = opts.timeout.map(|t| started + t);
    let mut last_output = started;
    let mut status: Option<ExitStatus> = None;
    let mut exited = false;
    let mut drain_deadline: Option<Instant> = None;
    let mut cancel_open = true;
    let mut output_bytes = 0u64;

    while !exited || stdout.is_open() || stderr.is_open() {
        // Timeouts only start a stop; once one is under way (or the agent exited) they are moot.
        let watching = !exited && stopper.cause.is_none();
        let wall = wall_deadline.filter(|_| watching);
        let idle = opts
            .idle_timeout
            .map(|t| last_output + t)
            .filter(|_| watching);
        let kill_at = stopper.kill_at.filter(|_| !exited);

        tokio::select! {
            read = read_opt(&mut stdout.reader, &mut stdout.buf) => {
                let n = stdout.on_read(read, collector);
                output_bytes += n as u64;
                if n > 0 { last_output = Instant::now(); }
            }
            read = read_opt(&mut stderr.reader, &mut stderr.buf) => {
                let n = stderr.on_read(read, collector);
                output_bytes += n as u64;
                if n > 0 { last_output = Instant::now(); }
            }
            exit = child.wait(), if !exited => {
                exited = true;
                match exit {
                    Ok(s) => status = Some(s),
                    Err(e) => {
                        // Cannot happen for a child we spawned and did not reap; if it does, stop
                        // waiting rather than spin, and report no status rather than a made-up one.
                        tracing::warn!(pid, "failed to wait for the agent: {e}");
                    }
                }
                // The leader is gone: nothing it started may outlive it (and hold the pipes).
                guard.kill_leftovers();
                stdin_write = None;
                drain_deadline = Some(Instant::now() + opts.drain_timeout);
            }
            () = opt_future(&mut stdin_write) => stdin_write = None,
            changed = cancel_rx.changed(), if cancel_open && !exited => {
                match changed {
                    Ok(()) => stopper.apply(*cancel_rx.borrow_and_update()),
                    // Every handle is gone, so no request can come any more.
                    Err(_) => cancel_open = false,
                }
            }
            () = sleep_opt(wall) => stopper.polite(StopCause::Timeout(TimeoutKind::Wall), Signal::SIGTERM),
            () = sleep_opt(idle) => stopper.polite(StopCause::Timeout(TimeoutKind::Idle), Signal::SIGTERM),
            () = sleep_opt(kill_at) => stopper.kill(stopper.cause.unwrap_or(StopCause::Cancel)),
            () = sleep_opt(drain_deadline) => {
                tracing::debug!(pid, "agent output still open after exit; a process left its group");
                stdout.close(collector);
                stderr.close(collector);
            }
        }
        if collector.gave_up() && !exited && stopper.cause.is_none() {
            stopper.polite(StopCause::GaveUp, Signal::SIGTERM);
        }
    }

    RunResult {
        status,
        cause: stopper.cause,
        output_bytes,
    }
}

/// Writes the prompt and closes stdin (EOF is what tells the CLI the prompt is complete).
async fn write_stdin(mut stdin: ChildStdin, bytes: Vec<u8>) {
    match stdin.write_all(&bytes).await {
        Ok(()) => {}
        // The agent exited or closed stdin without reading it all; its outcome will say why.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => tracing::warn!("failed to write the prompt to the agent's stdin: {e}"),
    }
    drop(stdin);
}

async fn read_opt<R: AsyncRead + Unpin>(
    reader: &mut Option<R>,
    buf: &mut [u8],
) -> io::Result<usize> {
    match reader {
        Some(r) => r.read(buf).await,
        None => pending().await,
    }
}

async fn sleep_opt(deadline: Option<Instant>) {
    match deadline {
        Some(d) => sleep_until(d).await,
        None => pending().await,
    }
}

async fn opt_future<Fut: Future<Output = ()>>(fut: &mut Option<Pin<Box<Fut>>>) {
    match fut {
        Some(f) => f.as_mut().await,
        None => pending().await,
    }
}
