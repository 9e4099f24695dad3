//! Tool calls read from whole streams as a network delivers them: split at
//! every byte, in one-byte pieces, interleaved, broken, malformed; and the
//! request and JSON completion forms (docs/API.md §10).

use futures::stream::{self, StreamExt};
use serde_json::{json, Value};

use super::openai::deltas;
use super::wire::{request_body, whole_completion};
use super::{ModelError, ModelRequest, Piece, ToolCall, ToolSpec, Turn, TurnRole};

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let obj = json!({ "id": "chatcmpl-9", "object": "chat.completion.chunk", "model": "m",
        "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] });
    format!("data: {obj}\n\n")
}

fn args(index: u64, piece: &str) -> String {
    chunk(
        json!({ "tool_calls": [{ "index": index, "function": { "arguments": piece } }] }),
        None,
    )
}

fn opens(index: u64, id: &str, name: &str) -> String {
    chunk(
        json!({ "tool_calls": [{ "index": index, "id": id, "type": "function",
            "function": { "name": name, "arguments": "" } }] }),
        None,
    )
}

/// An answer as OpenAI streams it: a `null` first delta, text with
/// multi-byte characters, then two calls whose argument pieces interleave,
/// `finish_reason` `tool_calls`, a usage-only chunk and `[DONE]`.
fn recorded() -> String {
    [
        chunk(json!({ "role": "assistant", "content": null }), None),
        chunk(json!({ "content": "Let me " }), None),
        chunk(json!({ "content": "check — ✓ 👋" }), None),
        opens(0, "call_a", "lookup_order"),
        opens(1, "call_b", "refund_status"),
        args(0, "{\"or"),
        args(1, "{\"id\""),
        args(0, "der\":\"A-"),
        args(1, ":42}"),
        args(0, "1é\"}"),
        chunk(json!({}), Some("tool_calls")),
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":9}}\n\n".into(),
        "data: [DONE]\n\n".into(),
    ]
    .concat()
}

fn expected() -> Vec<Result<Piece, String>> {
    let call = |id: &str, name: &str, arguments: &str| ToolCall {
        id: id.into(),
        name: name.into(),
        arguments: arguments.into(),
    };
    vec![
        Ok(Piece::Text("Let me ".into())),
        Ok(Piece::Text("check — ✓ 👋".into())),
        Ok(Piece::Calls(vec![
            call("call_a", "lookup_order", r#"{"order":"A-1é"}"#),
            call("call_b", "refund_status", r#"{"id":42}"#),
        ])),
    ]
}

async fn read(pieces: Vec<Vec<u8>>) -> Vec<Result<Piece, String>> {
    let body = stream::iter(
        pieces
            .into_iter()
            .map(|p| Ok::<_, reqwest::Error>(bytes::Bytes::from(p))),
    );
    deltas(body.boxed(), 64 * 1024)
        .map(|r| r.map_err(|e| e.to_string()))
        .collect()
        .await
}

#[tokio::test]
async fn a_recorded_stream_gives_its_text_then_its_calls() {
    assert_eq!(read(vec![recorded().into_bytes()]).await, expected());
}

#[tokio::test]
async fn every_split_point_gives_the_same_pieces() {
    let bytes = recorded().into_bytes();
    for at in 0..=bytes.len() {
        let (a, b) = bytes.split_at(at);
        assert_eq!(
            read(vec![a.to_vec(), b.to_vec()]).await,
            expected(),
            "split at byte {at}"
        );
    }
}

#[tokio::test]
async fn one_byte_pieces_give_the_same_pieces() {
    let pieces = recorded()
        .into_bytes()
        .chunks(1)
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(read(pieces).await, expected());
}

#[tokio::test]
async fn arguments_across_many_chunks_are_joined() {
    let text = r#"{"query":"where is my order, and why was I charged twice?"}"#;
    let mut stream = opens(0, "call_1", "lookup_order");
    for c in text.chars() {
        stream.push_str(&args(0, &c.to_string()));
    }
    stream.push_str(&chunk(json!({}), Some("tool_calls")));
    let got = read(vec![stream.into_bytes()]).await;
    assert_eq!(
        got,
        vec![Ok(Piece::Calls(vec![ToolCall {
            id: "call_1".into(),
            name: "lookup_order".into(),
            arguments: text.into(),
        }]))]
    );
}

#[tokio::test]
async fn a_call_without_id_or_name_is_malformed() {
    let no_id = chunk(
        json!({ "tool_calls": [{ "index": 0, "type": "function",
            "function": { "name": "lookup_order", "arguments": "{}" } }] }),
        Some("tool_calls"),
    );
    let no_name = chunk(
        json!({ "tool_calls": [{ "index": 0, "id": "call_1", "function": { "arguments": "{}" } }] }),
        Some("tool_calls"),
    );
    for stream in [no_id, no_name] {
        let got = read(vec![format!(
            "{}{stream}",
            chunk(json!({"content": "Hi"}), None)
        )
        .into_bytes()])
        .await;
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0], Ok(Piece::Text("Hi".into())));
        assert!(
            got[1].as_ref().unwrap_err().contains("could not be read"),
            "{got:?}"
        );
    }
    let bad_shape = chunk(json!({ "tool_calls": { "index": 0 } }), None);
    let got = read(vec![bad_shape.into_bytes()]).await;
    assert!(
        matches!(&got[..], [Err(e)] if e.contains("could not be read")),
        "{got:?}"
    );
}

#[tokio::test]
async fn calls_that_break_off_are_incomplete_not_made() {
    let stream = opens(0, "call_1", "lookup_order") + &args(0, "{\"query\":");
    let got = read(vec![stream.into_bytes()]).await;
    assert!(
        matches!(&got[..], [Err(e)] if e.contains("broke off")),
        "{got:?}"
    );
}

#[tokio::test]
async fn done_without_finish_reason_still_gives_the_calls() {
    let stream = opens(0, "call_1", "lookup_order") + &args(0, "{}") + "data: [DONE]\n\n";
    let got = read(vec![stream.into_bytes()]).await;
    assert!(
        matches!(&got[..], [Ok(Piece::Calls(c))] if c[0].id == "call_1"),
        "{got:?}"
    );
}

#[test]
fn a_json_completion_gives_its_text_and_calls() {
    let body = json!({ "choices": [{ "index": 0, "finish_reason": "tool_calls", "message": {
        "role": "assistant", "content": null, "tool_calls": [
            { "id": "call_1", "type": "function",
              "function": { "name": "lookup_order", "arguments": "{\"query\":\"A-1\"}" } }] } }] });
    let pieces = whole_completion(body.to_string().as_bytes()).unwrap();
    assert_eq!(
        pieces,
        vec![Piece::Calls(vec![ToolCall {
            id: "call_1".into(),
            name: "lookup_order".into(),
            arguments: "{\"query\":\"A-1\"}".into(),
        }])]
    );
    let text = json!({ "choices": [{ "message": { "content": "Hello" } }] });
    assert_eq!(
        whole_completion(text.to_string().as_bytes()).unwrap(),
        vec![Piece::Text("Hello".into())]
    );
    let nothing = json!({ "choices": [{ "message": { "content": null } }] });
    assert!(matches!(
        whole_completion(nothing.to_string().as_bytes()),
        Err(ModelError::Malformed(_))
    ));
    let nameless = json!({ "choices": [{ "message": { "content": null,
        "tool_calls": [{ "id": "c", "function": { "arguments": "{}" } }] } }] });
    assert!(whole_completion(nameless.to_string().as_bytes()).is_err());
}

#[test]
fn the_request_carries_tools_only_when_there_are_any() {
    let call = ToolCall {
        id: "call_1".into(),
        name: "lookup_order".into(),
        arguments: "{\"query\":\"A-1\"}".into(),
    };
    let mut request = ModelRequest {
        messages: vec![
            Turn::text(TurnRole::User, "Where is A-1?"),
            Turn::calls("", vec![call]),
            Turn::result("call_1", "shipped"),
        ],
        tools: vec![],
        max_tokens: 10,
        max_reply_chars: 100,
    };
    let bare = request_body("m", &request);
    assert!(bare.get("tools").is_none(), "{bare}");
    assert_eq!(
        bare["messages"],
        json!([
            { "role": "user", "content": "Where is A-1?" },
            { "role": "assistant", "content": null, "tool_calls": [{ "id": "call_1", "type": "function",
              "function": { "name": "lookup_order", "arguments": "{\"query\":\"A-1\"}" } }] },
            { "role": "tool", "content": "shipped", "tool_call_id": "call_1" }
        ])
    );
    let schema = json!({ "type": "object", "properties": { "query": { "type": "string" } } });
    request.tools.push(ToolSpec {
        name: "lookup_order".into(),
        description: "Looks an order up.".into(),
        parameters: schema.clone(),
    });
    assert_eq!(
        request_body("m", &request)["tools"],
        json!([{ "type": "function", "function": { "name": "lookup_order",
            "description": "Looks an order up.", "parameters": schema } }])
    );
}
