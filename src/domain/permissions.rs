/// What an API key may do. A key created without an explicit list gets all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ChatSend,
    ToolsUse,
    RagAccess,
    UsersRead,
    UsersWrite,
    AgentsRead,
    ConversationsRead,
    AgentsWrite,
    KnowledgeRead,
    KnowledgeWrite,
    EventsRead,
    WebhooksWrite,
}

impl Permission {
    pub const ALL: [Permission; 12] = [
        Permission::ChatSend,
        Permission::ToolsUse,
        Permission::RagAccess,
        Permission::UsersRead,
        Permission::UsersWrite,
        Permission::AgentsRead,
        Permission::ConversationsRead,
        Permission::AgentsWrite,
        Permission::KnowledgeRead,
        Permission::KnowledgeWrite,
        Permission::EventsRead,
        Permission::WebhooksWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ChatSend => "chat:send",
            Permission::ToolsUse => "tools:use",
            Permission::RagAccess => "rag:access",
            Permission::UsersRead => "users:read",
            Permission::UsersWrite => "users:write",
            Permission::AgentsRead => "agents:read",
            Permission::ConversationsRead => "conversations:read",
            Permission::AgentsWrite => "agents:write",
            Permission::KnowledgeRead => "knowledge:read",
            Permission::KnowledgeWrite => "knowledge:write",
            Permission::EventsRead => "events:read",
            Permission::WebhooksWrite => "webhooks:write",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

/// A set of permissions, kept as a bit set so the per-request check is free.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Permissions(u16);

impl Permissions {
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    pub fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    /// Parses a comma-separated list such as `users:read,chat:send`.
    pub fn parse_list(text: &str) -> Result<Self, String> {
        let mut set = Permissions(0);
        for name in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let p = Permission::ALL
                .into_iter()
                .find(|p| p.as_str() == name)
                .ok_or_else(|| {
                    let known: Vec<_> = Permission::ALL.iter().map(|p| p.as_str()).collect();
                    format!("unknown permission {name:?}; known: {}", known.join(", "))
                })?;
            set.0 |= p.bit();
        }
        if set.0 == 0 {
            return Err("a permission list must name at least one permission".into());
        }
        Ok(set)
    }

    pub fn to_list(self) -> String {
        self.names().collect::<Vec<_>>().join(",")
    }

    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
            .map(Permission::as_str)
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        Permissions(iter.into_iter().fold(0, |acc, p| acc | p.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_unknown_names() {
        let p = Permissions::parse_list("users:read, chat:send").unwrap();
        assert!(p.contains(Permission::UsersRead) && p.contains(Permission::ChatSend));
        assert!(!p.contains(Permission::UsersWrite));
        assert_eq!(Permissions::parse_list(&p.to_list()).unwrap(), p);
        assert!(Permissions::parse_list("users:delete").is_err());
        assert!(Permissions::parse_list("").is_err());
        assert_eq!(
            Permissions::parse_list(&Permissions::all().to_list()).unwrap(),
            Permissions::all()
        );
    }

    /// The migration that gives keys holding every earlier permission the
    /// new ones names those earlier ones exactly as `to_list` writes them.
    #[test]
    fn the_upgrade_migration_names_every_earlier_permission() {
        let earlier: Permissions = Permission::ALL[..7].iter().copied().collect();
        for sql in [
            include_str!("../../migrations/sqlite/0007_new_permissions.sql"),
            include_str!("../../migrations/postgres/0006_new_permissions.sql"),
        ] {
            let flat = sql.replace('\n', " ");
            assert!(flat.contains(&format!("WHERE permissions = '{}'", earlier.to_list())));
            let added = Permissions::all()
                .names()
                .skip(7)
                .collect::<Vec<_>>()
                .join(",");
            assert!(flat.contains(&format!("permissions || ',{added}'")));
        }
    }
}
