//! The fields an export writes for an event: sigil's flat event model as it is, or the
//! ECS view that Elastic rules use.

use sigil_logs::{Event, FieldValue};
use sigil_pipeline::ecs::EcsEvent;

/// Which names of an event an export writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// sigil's event model: the System fields (`Channel`, `EventID`, `Computer`,
    /// `SystemTime`, `EventRecordID`, `Provider_Name`, ...) and each EventData / UserData
    /// field under the name Sigma rules use; JSON events with their own (dotted) names.
    #[default]
    Flat,
    /// The ECS view of raw Windows events (`event.code`, `process.command_line`,
    /// `winlog.event_data.*`, ...), as `hunt` evaluates Elastic rules; other events as
    /// they are.
    Ecs,
}

/// An ECS view that answers only ECS names (those with a dot or `@`) for the Windows
/// events the mapping applies to, and every name for other events.
pub(crate) struct EcsOnly<'a> {
    pub view: EcsEvent<'a>,
}

fn ecs_like(name: &str) -> bool {
    name.bytes().any(|b| b == b'.' || b == b'@')
}

impl Event for EcsOnly<'_> {
    fn get(&self, field: &str) -> Option<FieldValue<'_>> {
        self.view.get(field)
    }

    fn for_each_field(&self, f: &mut dyn FnMut(&str, FieldValue<'_>)) {
        if self.view.is_mapped() {
            self.view.for_each_field(&mut |name, value| {
                if ecs_like(name) {
                    f(name, value);
                }
            });
        } else {
            self.view.for_each_field(f);
        }
    }
}
