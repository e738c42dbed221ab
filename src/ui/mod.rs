//! `Ui`: the only door to the terminal. Commands write through it so colour, `--quiet` and
//! `--json` are decided once, and the library below never prints.

mod styles;

use std::io::{self, Write};

pub use styles::Styles;

/// When to use colour (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    fn to_anstream(self) -> anstream::ColorChoice {
        match self {
            ColorChoice::Auto => anstream::ColorChoice::Auto,
            ColorChoice::Always => anstream::ColorChoice::Always,
            ColorChoice::Never => anstream::ColorChoice::Never,
        }
    }
}

/// The terminal, as the commands see it.
pub struct Ui {
    stdout: anstream::AutoStream<io::Stdout>,
    stderr: anstream::AutoStream<io::Stderr>,
    quiet: bool,
    styles: Styles,
}

impl Ui {
    pub fn new(color: ColorChoice, quiet: bool) -> Ui {
        let choice = color.to_anstream();
        Ui {
            stdout: anstream::AutoStream::new(io::stdout(), choice),
            stderr: anstream::AutoStream::new(io::stderr(), choice),
            quiet,
            styles: Styles::default(),
        }
    }

    pub fn styles(&self) -> &Styles {
        &self.styles
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// The command's data (what a pipe or `--json` wants). Never suppressed by `--quiet`.
    pub fn stdout(&mut self) -> &mut dyn Write {
        &mut self.stdout
    }

    /// Human status text on stdout; `--quiet` silences it.
    pub fn status(&mut self, text: &str) -> io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        self.stdout.write_all(text.as_bytes())
    }

    /// Diagnostics: errors and warnings go to stderr, whatever `--quiet` says.
    pub fn stderr(&mut self) -> &mut dyn Write {
        &mut self.stderr
    }

    /// A `warning: …` line on stderr.
    pub fn warn(&mut self, message: &str) -> io::Result<()> {
        let s = self.styles.warning;
        writeln!(self.stderr, "{s}warning{s:#}: {message}")
    }
}

impl Ui {
    /// Whether stderr gets colour (for the tracing layer, which writes stderr on its own).
    pub fn stderr_has_colour(&self) -> bool {
        self.stderr.current_choice() != anstream::ColorChoice::Never
    }
}
