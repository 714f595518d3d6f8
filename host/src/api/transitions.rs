//! `transitions!`: one POST endpoint per lifecycle transition of a resource
//! (orders, transfers). Each takes the resource id in the path and an
//! optional `{"note": …}` body, answers the resource after the transition,
//! and refuses alike; only its path, action and documentation differ.
//!
//! The invoking module provides `step(state, caller, id, action, note)`,
//! and has in scope the extractors and the refusal responses named below.

/// `transitions! { tag, id description, view type, action enum, note description;
/// name => Variant, "/path/{id}/…", "Summary", "Description."; … }`
macro_rules! transitions {
    (
        $tag:literal, $id_doc:literal, $view:ident, $action:ident, $note_doc:literal;
        $($name:ident => $variant:ident, $path:literal, $summary:literal, $description:literal;)*
    ) => {$(
        #[doc = $summary]
        #[doc = ""]
        #[doc = $description]
        #[doc = " The body (`{\"note\": \"…\"}`) is optional."]
        #[utoipa::path(
            post,
            path = $path,
            tag = $tag,
            params(("id" = String, Path, description = $id_doc)),
            request_body(content = Option<Note>, description = $note_doc),
            responses(
                (status = 200, description = "The resource after the transition.", body = $view),
                JsonBody, Forbidden, NotFound, Conflict,
            ),
        )]
        async fn $name(
            State(state): State<AppState>,
            caller: Caller,
            Path(id): Path<String>,
            note: OptionalBody<Note>,
        ) -> ApiResult<Json<$view>> {
            step(state, caller, id, $action::$variant, note).await
        }
    )*};
}
