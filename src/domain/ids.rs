/// The kinds of identifiers the service mints, each with its documented prefix.
#[derive(Debug, Clone, Copy)]
pub enum IdKind {
    Company,
    Agent,
    CustomerUser,
    ApiKey,
    Conversation,
    Message,
    Document,
    Webhook,
    Delivery,
    Attempt,
    Tool,
}

impl IdKind {
    fn prefix(self) -> &'static str {
        match self {
            IdKind::Company => "co_",
            IdKind::Agent => "agent_",
            IdKind::CustomerUser => "cu_",
            IdKind::ApiKey => "pk_",
            IdKind::Conversation => "conv_",
            IdKind::Message => "msg_",
            IdKind::Document => "doc_",
            IdKind::Webhook => "whk_",
            IdKind::Delivery => "dlv_",
            IdKind::Attempt => "att_",
            IdKind::Tool => "tool_",
        }
    }
}

/// A new prefixed ULID: ids sort by creation time, which keeps the list order
/// (created_at, id) stable and index inserts append-only.
pub fn new_id(kind: IdKind) -> String {
    format!("{}{}", kind.prefix(), ulid::Ulid::new())
}
