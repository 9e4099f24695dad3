//! The model's input (docs/API.md §8): the agent's prompt template, its placeholders
//! expanded in one pass, as the only system message; then the latest messages
//! within the history budget, made to alternate user/assistant
//! ([`history_turns`], with the tool calls of earlier replies).

use crate::domain::{Agent, CustomerUser, Message};
use crate::llm::{Turn, TurnRole};

pub use super::history::{history_turns, HistoryBudget};

/// Replaces the four placeholders in one left-to-right pass: text a
/// replacement inserts is never looked at again, and anything else between
/// braces stays exactly as written.
///
/// Inserted values are end-user text (a name, an id the company took from
/// its user) and go in verbatim except for control characters other than
/// newline and tab, which are dropped: they have no business in a prompt,
/// and escape sequences or a carriage return could disguise what the prompt
/// says to whoever reads it in a log or terminal.
pub fn expand_template(template: &str, user: &CustomerUser, agent: &Agent, today: &str) -> String {
    let values: [(&str, &str); 4] = [
        ("{{customer_user.name}}", user.name.as_deref().unwrap_or("")),
        ("{{customer_user.external_id}}", &user.external_id),
        ("{{agent.name}}", &agent.name),
        ("{{date}}", today),
    ];
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(at) = rest.find("{{") {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match values.iter().find(|(p, _)| rest.starts_with(p)) {
            Some((placeholder, value)) => {
                out.extend(value.chars().filter(|&c| allowed_in_prompt(c)));
                rest = &rest[placeholder.len()..];
            }
            None => {
                out.push_str("{{");
                rest = &rest[2..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn allowed_in_prompt(c: char) -> bool {
    !c.is_control() || c == '\n' || c == '\t'
}

/// The whole input: the expanded template (when the agent has one) first.
pub fn model_input(
    user: &CustomerUser,
    agent: &Agent,
    today: &str,
    messages: &[Message],
    budget: HistoryBudget,
) -> Vec<Turn> {
    let mut turns = Vec::new();
    if let Some(template) = agent.prompt_template.as_deref().filter(|t| !t.is_empty()) {
        turns.push(Turn::text(
            TurnRole::System,
            expand_template(template, user, agent, today),
        ));
    }
    turns.extend(history_turns(messages, budget));
    turns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Metadata, Role};

    fn user(name: Option<&str>) -> CustomerUser {
        CustomerUser {
            id: "cu_1".into(),
            company_id: "co_1".into(),
            external_id: "ext-{{date}}".into(),
            name: name.map(str::to_owned),
            email: None,
            metadata: Metadata::from_stored("{}"),
            active: true,
            token_version: 0,
            created_at: 0,
            updated_at: 0,
            last_seen_at: None,
        }
    }

    fn agent(template: Option<&str>) -> Agent {
        Agent {
            id: "agent_1".into(),
            company_id: "co_1".into(),
            name: "Helper {{agent.name}}".into(),
            prompt_template: template.map(str::to_owned),
            llm_url: None,
            llm_model: None,
            active: true,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn placeholders_are_expanded_once_and_nothing_else() {
        let t = "Hi {{customer_user.name}} ({{customer_user.external_id}}), I am {{agent.name}} on {{date}}. \
                 {{unknown}} {{ date }} {{date} {{{{date}}";
        let out = expand_template(t, &user(Some("Ann")), &agent(None), "2025-01-15");
        assert_eq!(
            out,
            "Hi Ann (ext-{{date}}), I am Helper {{agent.name}} on 2025-01-15. \
             {{unknown}} {{ date }} {{date} {{2025-01-15"
        );
        let nameless = expand_template("[{{customer_user.name}}]", &user(None), &agent(None), "d");
        assert_eq!(nameless, "[]");
    }

    #[test]
    fn inserted_values_lose_their_control_characters_only() {
        let mut u = user(Some(
            "Ann\u{1b}[2J\r\u{7}\u{0}\u{85}\u{7f} Lee\n\tjr {{date}}",
        ));
        u.external_id = "id\u{8}\u{8}x".into();
        let t = "A\u{1b}B {{customer_user.name}} / {{customer_user.external_id}}";
        assert_eq!(
            expand_template(t, &u, &agent(None), "d"),
            "A\u{1b}B Ann[2J Lee\n\tjr {{date}} / idx",
            "the company's own template is kept as written"
        );
    }

    fn msg(i: usize, role: Role, content: &str) -> Message {
        Message {
            id: format!("msg_{i:03}"),
            conversation_id: "conv_1".into(),
            role,
            content: content.into(),
            created_at: i as i64,
            sources: None,
            tool: None,
        }
    }

    fn pairs(turns: &[Turn]) -> Vec<(&str, &str)> {
        turns
            .iter()
            .map(|t| (t.role.as_str(), t.content.as_str()))
            .collect()
    }

    #[test]
    fn unanswered_questions_join_the_next_one() {
        let history = [
            msg(1, Role::User, "a"),
            msg(2, Role::Assistant, "b"),
            msg(3, Role::User, "lost"),
            msg(4, Role::User, "again"),
        ];
        let turns = history_turns(&history, HistoryBudget::default());
        assert_eq!(
            pairs(&turns),
            [("user", "a"), ("assistant", "b"), ("user", "lost\n\nagain")]
        );
    }

    #[test]
    fn the_budget_keeps_the_latest_messages_and_opens_with_the_user() {
        let history: Vec<Message> = (0..30)
            .map(|i| {
                msg(
                    i,
                    if i % 2 == 0 {
                        Role::User
                    } else {
                        Role::Assistant
                    },
                    &format!("m{i}"),
                )
            })
            .collect();
        let mut with_new = history.clone();
        with_new.push(msg(30, Role::User, "new"));
        let turns = history_turns(
            &with_new,
            HistoryBudget {
                messages: 20,
                chars: 24_000,
            },
        );
        // 20 messages: m11..m29 and "new"; m11 is an assistant turn, so dropped.
        assert_eq!(turns.len(), 19);
        assert_eq!(turns[0].content, "m12");
        assert_eq!(turns.last().unwrap().content, "new");
        let by_chars = history_turns(
            &with_new,
            HistoryBudget {
                messages: 20,
                chars: 9,
            },
        );
        // "new", "m29" and "m28" are 3 code points each: exactly 9.
        assert_eq!(
            pairs(&by_chars),
            [("user", "m28"), ("assistant", "m29"), ("user", "new")]
        );
        let tiny = history_turns(
            &with_new,
            HistoryBudget {
                messages: 1,
                chars: 1,
            },
        );
        assert_eq!(
            pairs(&tiny),
            [("user", "new")],
            "the new message always goes"
        );
    }

    #[test]
    fn the_template_is_the_only_system_message() {
        let history = [msg(1, Role::User, "q")];
        let turns = model_input(
            &user(None),
            &agent(Some("Be kind.")),
            "d",
            &history,
            HistoryBudget::default(),
        );
        assert_eq!(pairs(&turns), [("system", "Be kind."), ("user", "q")]);
        let bare = model_input(
            &user(None),
            &agent(None),
            "d",
            &history,
            HistoryBudget::default(),
        );
        assert_eq!(pairs(&bare), [("user", "q")]);
    }
}
