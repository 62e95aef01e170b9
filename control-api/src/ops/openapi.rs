//! The operation tables in the OpenAPI document: one path per operation path and method,
//! with the input as query parameters (GET, DELETE) or a JSON body, the output schema of
//! its success, and the error statuses it may answer (all with the error envelope).
//!
//! Element types that share an operation path with different shapes (`send`,
//! `test-connection`) get `anyOf` of their inputs and outputs, and the description names
//! which type takes which.

use std::collections::BTreeMap;

use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, OpenApi, RefOr, Required, ResponseBuilder};

use super::{Errors, Op, Run, TypeSchema, circle_ops, element_ops};
use crate::element::ElementType;

/// One table entry as the document sees it.
struct Entry {
    path: String,
    method: HttpMethod,
    scope: &'static str,
    name: &'static str,
    summary: &'static str,
    role: &'static str,
    status: u16,
    errors: Errors,
    schemas: Option<(TypeSchema, TypeSchema)>,
    why: Option<&'static str>,
    types: Vec<&'static str>,
}

fn entry<C>(op: &Op<C>, prefix: &str, scope: &'static str, owner: &'static str) -> Entry {
    let (schemas, why) = match &op.run {
        Run::Handler { input, output, .. } => (Some(((**input).clone(), (**output).clone())), None),
        Run::NotSupported(why) => (None, Some(*why)),
    };
    Entry {
        path: format!("{prefix}/ops/{}", op.path),
        method: http_method(&op.method),
        scope,
        name: op.name,
        summary: op.summary,
        role: role_name(op.role),
        status: op.status.as_u16(),
        errors: op.errors,
        schemas,
        why,
        types: vec![owner],
    }
}

fn role_name(role: crate::auth::Role) -> &'static str {
    match role {
        crate::auth::Role::Read => "read",
        crate::auth::Role::Write => "write",
        crate::auth::Role::Execute => "execute",
        crate::auth::Role::Admin => "admin",
    }
}

fn http_method(method: &axum::http::Method) -> HttpMethod {
    match method.as_str() {
        "GET" => HttpMethod::Get,
        "PATCH" => HttpMethod::Patch,
        "DELETE" => HttpMethod::Delete,
        "PUT" => HttpMethod::Put,
        _ => HttpMethod::Post,
    }
}

fn method_name(method: &HttpMethod) -> &'static str {
    match method {
        HttpMethod::Get => "GET",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        HttpMethod::Put => "PUT",
        _ => "POST",
    }
}

fn json(schema: &TypeSchema) -> String {
    serde_json::to_string(&schema.schema).unwrap_or_default()
}

/// Every entry, grouped by (path, method); identical entries of several types merged.
fn entries() -> BTreeMap<(String, String), Vec<Entry>> {
    let mut groups: BTreeMap<(String, String), Vec<Entry>> = BTreeMap::new();
    let mut add = |e: Entry| {
        let key = (e.path.clone(), method_name(&e.method).to_owned());
        let list = groups.entry(key).or_default();
        let same = list.iter_mut().find(|other| {
            other.name == e.name
                && match (&other.schemas, &e.schemas) {
                    (Some((ai, ao)), Some((bi, bo))) => {
                        json(ai) == json(bi) && json(ao) == json(bo)
                    }
                    (None, None) => true,
                    _ => false,
                }
        });
        match same {
            Some(other) => other.types.extend(e.types),
            None => list.push(e),
        }
    };
    for op in circle_ops() {
        add(entry(op, "/api/{circle}", "circle", "circle"));
    }
    for element_type in ElementType::ALL {
        for op in element_ops(element_type) {
            add(entry(
                op,
                "/api/{circle}/{slug}",
                "element",
                element_type.as_str(),
            ));
        }
    }
    groups
}

/// Adds every operation of the tables to `doc`.
pub(crate) fn add_paths(doc: &mut OpenApi) {
    let components = doc.components.get_or_insert_with(Default::default);
    for group in entries().into_values() {
        for e in &group {
            if let Some((input, output)) = &e.schemas {
                for (name, schema) in input.components.iter().chain(&output.components) {
                    components
                        .schemas
                        .entry(name.clone())
                        .or_insert_with(|| schema.clone());
                }
            }
        }
        let first = &group[0];
        let operation = operation(&group);
        doc.paths
            .add_path_operation(first.path.clone(), vec![first.method.clone()], operation);
    }
}

fn any_of(schemas: Vec<RefOr<Schema>>) -> RefOr<Schema> {
    if schemas.len() == 1 {
        return schemas.into_iter().next().unwrap_or_default();
    }
    let mut builder = AnyOfBuilder::new();
    for s in schemas {
        builder = builder.item(s);
    }
    RefOr::T(Schema::AnyOf(builder.build()))
}

fn operation(group: &[Entry]) -> utoipa::openapi::path::Operation {
    let first = &group[0];
    let tag = if group.len() == 1 && first.types.len() == 1 && first.scope == "element" {
        first.types[0]
    } else {
        first.scope
    };
    let description = group
        .iter()
        .map(|e| {
            let mut line = format!(
                "`{}` ({}; role {}): {}",
                e.name,
                e.types.join(", "),
                e.role,
                e.summary
            );
            if let Some(why) = e.why {
                line.push_str(&format!(". Answers 501 OPERATION_NOT_SUPPORTED: {why}"));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n\n");
    let mut builder = OperationBuilder::new()
        .operation_id(Some(format!("{}.{}", first.scope, first.name)))
        .summary(Some(first.summary))
        .description(Some(description))
        .tag(tag)
        .security(SecurityRequirement::new("bearer", Vec::<String>::new()))
        .parameter(path_param("circle", "the circle (the key's)", "default"));
    if first.scope == "element" {
        builder = builder.parameter(path_param("slug", "the element's slug", "main"));
    }
    // Documented by the interface documents, answered 501 here: marked deprecated, the
    // one OpenAPI flag that tells a client (and a fuzzer) not to rely on an operation.
    if group.iter().all(|e| e.why.is_some()) {
        builder = builder.deprecated(Some(utoipa::openapi::Deprecated::True));
    }
    let inputs: Vec<&TypeSchema> = group
        .iter()
        .filter_map(|e| e.schemas.as_ref().map(|(i, _)| i))
        .collect();
    let outputs: Vec<RefOr<Schema>> = group
        .iter()
        .filter_map(|e| e.schemas.as_ref().map(|(_, o)| o.schema.clone()))
        .collect();
    if matches!(first.method, HttpMethod::Get | HttpMethod::Delete) {
        for input in &inputs {
            for p in query_params(input) {
                builder = builder.parameter(p);
            }
        }
    } else if !inputs.is_empty() {
        let required = inputs.iter().any(|i| has_required(&i.schema));
        let schema = any_of(inputs.iter().map(|i| i.schema.clone()).collect());
        builder = builder.request_body(Some(
            RequestBodyBuilder::new()
                .content("application/json", Content::new(Some(schema)))
                .required(Some(if required {
                    Required::True
                } else {
                    Required::False
                }))
                .build(),
        ));
    }
    if !outputs.is_empty() {
        builder = builder.response(
            first.status.to_string(),
            ResponseBuilder::new()
                .description("success")
                .content("application/json", Content::new(Some(any_of(outputs)))),
        );
    }
    for status in error_statuses(group) {
        builder = builder.response(
            status.to_string(),
            ResponseBuilder::new()
                .description("error envelope")
                .content(
                    "application/json",
                    Content::new(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name(
                        "ErrorBody",
                    )))),
                ),
        );
    }
    builder.build()
}

fn error_statuses(group: &[Entry]) -> Vec<u16> {
    let mut statuses: Vec<u16> = vec![401, 403, 404];
    for e in group {
        if e.why.is_some() {
            statuses.push(501);
        }
        if e.schemas.is_some() {
            statuses.extend(e.errors.statuses());
            // A disabled element, or an update that lost a race.
            statuses.push(409);
            // The secrets key is missing (credentials), or a dependency is down.
            statuses.push(503);
        }
    }
    statuses.sort_unstable();
    statuses.dedup();
    statuses
}

fn path_param(name: &str, description: &str, example: &str) -> utoipa::openapi::path::Parameter {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(description))
        .schema(Some(
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .examples([serde_json::Value::String(example.to_owned())]),
        ))
        .build()
}

fn has_required(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if !o.required.is_empty())
}

/// The query parameters of a GET or DELETE input: its object's properties.
fn query_params(input: &TypeSchema) -> Vec<utoipa::openapi::path::Parameter> {
    let RefOr::T(Schema::Object(object)) = &input.schema else {
        return Vec::new();
    };
    object
        .properties
        .iter()
        .map(|(name, schema)| {
            let description = match schema {
                RefOr::T(Schema::Object(o)) => o.description.clone(),
                _ => None,
            };
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Query)
                .required(if object.required.contains(name) {
                    Required::True
                } else {
                    Required::False
                })
                .description(description)
                .schema(Some(schema.clone()))
                .build()
        })
        .collect()
}
