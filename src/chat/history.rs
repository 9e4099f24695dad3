//! The part of a conversation the model is given again (docs/API.md §8, §10):
//! the latest messages within a budget, as turns that alternate user and
//! assistant, with the tool calls of earlier replies in OpenAI's form.
//!
//! Tool messages go in whole units: a call message and one result for each
//! of its calls. A model server refuses a result without its call, or a call
//! left without a result, so a unit is taken or dropped whole, by the budget
//! as by the window: one that is incomplete (cut by the window, or a node
//! died mid-call) is dropped, as is one of a reply that failed (no assistant
//! message after it), whose question then joins the next one as before.

use crate::domain::{Message, Role, ToolPart};
use crate::llm::{Turn, TurnRole};

/// How much of a conversation the model sees.
#[derive(Debug, Clone, Copy)]
pub struct HistoryBudget {
    pub messages: u32,
    /// Code points of message text; the system prompt is not counted.
    pub chars: usize,
}

impl Default for HistoryBudget {
    fn default() -> Self {
        HistoryBudget {
            messages: 20,
            chars: 24_000,
        }
    }
}

/// A stretch of the conversation taken or dropped whole.
enum Block<'a> {
    User(&'a Message),
    Assistant(&'a Message),
    /// A call message and one result per call.
    Tools(&'a Message, Vec<&'a Message>),
}

impl Block<'_> {
    fn messages(&self) -> usize {
        match self {
            Block::Tools(_, results) => 1 + results.len(),
            _ => 1,
        }
    }

    /// Code points counted against the budget: texts, and a call's arguments.
    fn chars(&self) -> usize {
        match self {
            Block::User(m) | Block::Assistant(m) => m.content.chars().count(),
            Block::Tools(call, results) => {
                let args: usize = match &call.tool {
                    Some(ToolPart::Calls(calls)) => {
                        calls.iter().map(|c| c.arguments.chars().count()).sum()
                    }
                    _ => 0,
                };
                call.content.chars().count()
                    + args
                    + results
                        .iter()
                        .map(|r| r.content.chars().count())
                        .sum::<usize>()
            }
        }
    }
}

/// The messages as blocks, complete tool units only, and only those a
/// reply was stored after.
fn blocks(messages: &[Message]) -> Vec<Block<'_>> {
    let mut out = Vec::new();
    // The unit being read: its call message, the ids still unanswered, the results.
    let mut open: Option<(&Message, Vec<&str>, Vec<&Message>)> = None;
    for m in messages {
        match (m.role, &m.tool) {
            (Role::User, _) => {
                open = None;
                out.push(Block::User(m));
            }
            (Role::Assistant, _) => {
                open = None;
                out.push(Block::Assistant(m));
            }
            (Role::Tool, Some(ToolPart::Calls(calls))) if !calls.is_empty() => {
                let ids = calls.iter().map(|c| c.id.as_str()).collect();
                open = Some((m, ids, Vec::new()));
            }
            (Role::Tool, Some(ToolPart::Result { call_id, .. })) => {
                let Some((_, waiting, results)) = &mut open else {
                    continue; // a result whose call is not in the window
                };
                let Some(at) = waiting.iter().position(|id| id == call_id) else {
                    continue;
                };
                waiting.swap_remove(at);
                results.push(m);
                if waiting.is_empty() {
                    let (call, _, results) = open.take().expect("a unit is open");
                    out.push(Block::Tools(call, results));
                }
            }
            (Role::Tool, _) => {}
        }
    }
    // A reply's units come before its assistant message: keep those only.
    let mut answered = false;
    let mut kept: Vec<Block<'_>> = out
        .into_iter()
        .rev()
        .filter(|b| match b {
            Block::User(_) => {
                answered = false;
                true
            }
            Block::Assistant(_) => {
                answered = true;
                true
            }
            Block::Tools(..) => answered,
        })
        .collect();
    kept.reverse();
    kept
}

/// The latest messages (chronological input, newest last) that fit the
/// budget — the newest always does — as turns starting with the user:
/// consecutive user messages (questions left without a reply after a
/// failure) become one turn joined by a blank line; an earlier reply's tool
/// calls come as an assistant turn with `tool_calls` and one tool turn per
/// result, before that reply.
pub fn history_turns(messages: &[Message], budget: HistoryBudget) -> Vec<Turn> {
    let all = blocks(messages);
    let mut taken = 0usize;
    let mut counted = 0usize;
    let mut chars = 0usize;
    for block in all.iter().rev() {
        let (n, len) = (block.messages(), block.chars());
        if taken > 0 && (counted + n > budget.messages as usize || chars + len > budget.chars) {
            break;
        }
        taken += 1;
        counted += n;
        chars += len;
    }
    let mut turns: Vec<Turn> = Vec::new();
    for block in &all[all.len() - taken..] {
        match block {
            // A window must open with the user.
            _ if turns.is_empty() && !matches!(block, Block::User(_)) => {}
            Block::User(m) | Block::Assistant(m) => {
                let role = if matches!(block, Block::User(_)) {
                    TurnRole::User
                } else {
                    TurnRole::Assistant
                };
                match turns.last_mut() {
                    Some(last)
                        if last.role == role
                            && last.tool_calls.is_empty()
                            && last.tool_call_id.is_none() =>
                    {
                        last.content.push_str("\n\n");
                        last.content.push_str(&m.content);
                    }
                    _ => turns.push(Turn::text(role, m.content.clone())),
                }
            }
            Block::Tools(call, results) => {
                let Some(ToolPart::Calls(calls)) = &call.tool else {
                    continue;
                };
                turns.push(Turn::calls(call.content.clone(), calls.clone()));
                for r in results {
                    if let Some(ToolPart::Result { call_id, .. }) = &r.tool {
                        turns.push(Turn::result(call_id.clone(), r.content.clone()));
                    }
                }
            }
        }
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ToolCall, ToolStatus};

    fn msg(i: usize, role: Role, content: &str, tool: Option<ToolPart>) -> Message {
        Message {
            id: format!("msg_{i:03}"),
            conversation_id: "conv_1".into(),
            role,
            content: content.into(),
            created_at: i as i64,
            sources: None,
            tool,
        }
    }

    fn user(i: usize, text: &str) -> Message {
        msg(i, Role::User, text, None)
    }

    fn assistant(i: usize, text: &str) -> Message {
        msg(i, Role::Assistant, text, None)
    }

    fn calls(i: usize, ids: &[&str]) -> Message {
        let calls = ids
            .iter()
            .map(|id| ToolCall {
                id: (*id).into(),
                name: "lookup".into(),
                arguments: "{}".into(),
            })
            .collect();
        msg(i, Role::Tool, "", Some(ToolPart::Calls(calls)))
    }

    fn result(i: usize, id: &str, text: &str) -> Message {
        let part = ToolPart::Result {
            call_id: id.into(),
            name: "lookup".into(),
            status: ToolStatus::Ok,
        };
        msg(i, Role::Tool, text, Some(part))
    }

    /// Each turn as role, content and the call ids it makes or answers.
    fn shape(turns: &[Turn]) -> Vec<String> {
        turns
            .iter()
            .map(|t| {
                let ids: Vec<&str> = t.tool_calls.iter().map(|c| c.id.as_str()).collect();
                let answers = t.tool_call_id.as_deref().unwrap_or("");
                format!(
                    "{}:{}:{}{}",
                    t.role.as_str(),
                    t.content,
                    ids.join(","),
                    answers
                )
            })
            .collect()
    }

    #[test]
    fn calls_and_results_come_in_openai_form() {
        let history = [
            user(1, "where?"),
            calls(2, &["a", "b"]),
            result(3, "b", "B"),
            result(4, "a", "A"),
            assistant(5, "shipped"),
            user(6, "thanks"),
        ];
        let turns = history_turns(&history, HistoryBudget::default());
        assert_eq!(
            shape(&turns),
            [
                "user:where?:",
                "assistant::a,b",
                "tool:B:b",
                "tool:A:a",
                "assistant:shipped:",
                "user:thanks:"
            ]
        );
    }

    #[test]
    fn results_never_come_without_their_call() {
        // The window begins after the call: its result goes with it.
        let cut = [result(3, "a", "A"), assistant(4, "shipped"), user(5, "q")];
        assert_eq!(
            shape(&history_turns(&cut, HistoryBudget::default())),
            ["user:q:"]
        );
        // A call left with one of its two results (a node died mid-call).
        let partial = [
            user(1, "q"),
            calls(2, &["a", "b"]),
            result(3, "a", "A"),
            assistant(4, "r"),
            user(5, "q2"),
        ];
        assert_eq!(
            shape(&history_turns(&partial, HistoryBudget::default())),
            ["user:q:", "assistant:r:", "user:q2:"]
        );
    }

    #[test]
    fn the_calls_of_a_failed_reply_are_dropped_and_its_question_joins_the_next() {
        let history = [
            user(1, "lost"),
            calls(2, &["a"]),
            result(3, "a", "A"),
            user(4, "again"),
        ];
        assert_eq!(
            shape(&history_turns(&history, HistoryBudget::default())),
            ["user:lost\n\nagain:"]
        );
    }

    #[test]
    fn the_budget_takes_or_drops_a_unit_whole() {
        let history = [
            user(1, "q1"),
            assistant(2, "r1"),
            user(3, "q2"),
            calls(4, &["a"]),
            result(5, "a", "12345"),
            assistant(6, "r2"),
            user(7, "q3"),
        ];
        let budget = |messages| HistoryBudget {
            messages,
            chars: 1000,
        };
        // Three messages: q3, r2, and the unit's two would make four.
        assert_eq!(shape(&history_turns(&history, budget(3))), ["user:q3:"]);
        // Four: the unit fits, but a window opens with the user, so it goes.
        assert_eq!(shape(&history_turns(&history, budget(4))), ["user:q3:"]);
        assert_eq!(
            shape(&history_turns(&history, budget(5))),
            [
                "user:q2:",
                "assistant::a",
                "tool:12345:a",
                "assistant:r2:",
                "user:q3:"
            ]
        );
        // By characters: the unit counts its arguments ("{}") and result.
        let tight = HistoryBudget {
            messages: 20,
            chars: 2 + 2 + 7 + 2 - 1,
        };
        assert_eq!(shape(&history_turns(&history, tight)), ["user:q3:"]);
        let enough = HistoryBudget {
            messages: 20,
            chars: 2 + 2 + 7 + 2,
        };
        assert_eq!(shape(&history_turns(&history, enough)).len(), 5);
    }
}
