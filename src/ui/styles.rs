//! The few styles `teams` uses, in one place so output looks the same in every command.

use anstyle::{AnsiColor, Effects, Style};

/// Named styles; formatting functions take `&Styles` so they stay pure and snapshot-testable.
#[derive(Debug, Clone, Copy)]
pub struct Styles {
    pub error: Style,
    pub warning: Style,
    pub hint: Style,
    pub good: Style,
    pub bad: Style,
    pub pending: Style,
    pub id: Style,
    pub dim: Style,
    pub heading: Style,
}

impl Default for Styles {
    fn default() -> Self {
        Styles {
            error: AnsiColor::Red.on_default().effects(Effects::BOLD),
            warning: AnsiColor::Yellow.on_default().effects(Effects::BOLD),
            hint: AnsiColor::Cyan.on_default().effects(Effects::BOLD),
            good: AnsiColor::Green.on_default(),
            bad: AnsiColor::Red.on_default(),
            pending: AnsiColor::Yellow.on_default(),
            id: Style::new().effects(Effects::BOLD),
            dim: Style::new().effects(Effects::DIMMED),
            heading: Style::new().effects(Effects::BOLD | Effects::UNDERLINE),
        }
    }
}

impl Styles {
    /// Styles that print nothing: for `--color never` paths that build strings themselves.
    pub fn plain() -> Self {
        let none = Style::new();
        Styles {
            error: none,
            warning: none,
            hint: none,
            good: none,
            bad: none,
            pending: none,
            id: none,
            dim: none,
            heading: none,
        }
    }
}
