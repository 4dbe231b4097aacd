//! The event filters shared by the commands that read logs (`hunt`, `search`, `metrics`).

use sigil_hunt::{ComputerPattern, EventFilter};
use sigil_logs::TimeWindow;

/// Which events to read.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct FilterArgs {
    /// Only events at or after this time: an RFC 3339 date-time (UTC unless an offset is
    /// given) or a date (from its start). EVTX chunks well before it are not read.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only events at or before this time: an RFC 3339 date-time or a date (to its end).
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// Only events of this computer (`*` and `?` wildcards, any case); repeat for several.
    #[arg(long, value_name = "NAME")]
    pub computer: Vec<String>,
}

impl FilterArgs {
    /// The filter, or what is wrong with the arguments.
    pub fn event_filter(&self) -> anyhow::Result<EventFilter> {
        let window = TimeWindow::parse(self.from.as_deref(), self.to.as_deref())
            .map_err(|e| anyhow::anyhow!(e))?;
        let computers = self
            .computer
            .iter()
            .map(|c| ComputerPattern::new(c).map_err(|e| anyhow::anyhow!("--computer: {e}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(EventFilter { window, computers })
    }
}
