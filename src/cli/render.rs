//! Rendering of a [`TeamsError`]: `error: …`, the details, the `caused by:` chain, then `hint: …`.
//! Pure (returns a string) so it can be snapshot-tested.

use std::fmt::Write as _;

use crate::error::TeamsError;
use crate::ui::Styles;

/// How many detail lines an error shows before "… and N more".
const MAX_DETAILS: usize = 20;

pub fn render_error(err: &TeamsError, styles: &Styles) -> String {
    let mut out = String::new();
    let e = styles.error;
    let h = styles.hint;
    let _ = writeln!(out, "{e}error{e:#}: {}", err.message());
    for detail in err.details().iter().take(MAX_DETAILS) {
        let _ = writeln!(out, "  {detail}");
    }
    if err.details().len() > MAX_DETAILS {
        let _ = writeln!(out, "  … and {} more", err.details().len() - MAX_DETAILS);
    }
    for cause in err.causes() {
        let _ = writeln!(out, "  caused by: {cause}");
    }
    for hint in err.hints() {
        let _ = writeln!(out, "{h}hint{h:#}: {hint}");
    }
    out
}

/// A closed pipe (`teams status | head`) is not an error worth reporting.
pub fn is_broken_pipe(err: &TeamsError) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_message_details_causes_and_hints() {
        let err = TeamsError::invalid_input("prd.json is invalid: 2 problems")
            .with_detail("prd.json:3:5: epics[0].id: duplicate ID `E-1`")
            .with_detail("prd.json:9:7: epics[1].dependsOn[0]: unknown epic `E-9`")
            .with_source(std::io::Error::other("disk on fire"))
            .with_hint("run `teams validate` to see all problems");
        insta::assert_snapshot!(render_error(&err, &Styles::plain()), @r"
        error: prd.json is invalid: 2 problems
          prd.json:3:5: epics[0].id: duplicate ID `E-1`
          prd.json:9:7: epics[1].dependsOn[0]: unknown epic `E-9`
          caused by: disk on fire
        hint: run `teams validate` to see all problems
        ");
    }

    #[test]
    fn long_detail_lists_are_capped() {
        let mut err = TeamsError::invalid_input("many problems");
        for i in 0..25 {
            err = err.with_detail(format!("problem {i}"));
        }
        let text = render_error(&err, &Styles::plain());
        assert!(text.contains("problem 19\n"));
        assert!(!text.contains("problem 20\n"));
        assert!(text.contains("… and 5 more"));
    }

    #[test]
    fn broken_pipe_is_recognised_through_the_chain() {
        let err = TeamsError::internal("failed to write output")
            .with_source(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&err));
        assert!(!is_broken_pipe(&TeamsError::internal("other")));
    }
}
