//! TEMPORARY: plain reporting until the terminal reporter lands.
use crate::run::{EventSink, RunEvent, RunSummary};
use crate::ui::Ui;
use crate::error::Result;
pub struct CliSink<'a> { ui: &'a mut Ui, json: bool }
impl<'a> CliSink<'a> {
    pub fn new(ui: &'a mut Ui, json: bool) -> Self { CliSink { ui, json } }
    pub fn finish(&mut self) {}
}
impl EventSink for CliSink<'_> {
    fn event(&mut self, event: &RunEvent) {
        let _ = self.json;
        let _ = writeln!(self.ui.stderr(), "{}", serde_json::to_string(event).unwrap());
    }
}
pub fn print_summary(ui: &mut Ui, summary: &RunSummary, _json: bool) -> Result<()> {
    let (p, t) = summary.stories_passed();
    let _ = writeln!(ui.stdout(), "DONE: {p}/{t} stories passed");
    Ok(())
}
