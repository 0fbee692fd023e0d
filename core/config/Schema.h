#pragma once
// A small declarative schema for the JSON of experiments and component options.
// It validates (collecting every problem with its JSON pointer), fills defaults, and
// describes fields for `omnilab-cli list` and, later, the composer's property editor.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/Error.h"

namespace omnilab {

struct ComponentInfo;

enum class FieldType {
    String,
    Integer,
    PositiveInteger,
    Number,
    Boolean,
    Enum,          // a string out of `choices`
    Object,        // validated by `child`
    Array,         // items validated by `child` (objects) or `itemType` (scalars)
    Component,     // object whose `selector` key names a component of `registryKind`
    ComponentName, // a string naming a component of `registryKind`
    ComponentMap,  // object whose values are each a Component (e.g. named peripherals)
    StringMap,     // object of string values (e.g. input bindings)
    Any,
};

class Schema;

struct Field {
    std::string name;
    FieldType type = FieldType::Any;
    std::string doc;
    bool isRequired = false;
    nlohmann::json defaultValue;            // null: no default
    std::optional<double> min, max;         // numbers: inclusive bounds; arrays: item counts
    std::vector<std::string> choices;       // Enum
    std::shared_ptr<Schema> child;          // Object, Array of objects
    FieldType itemType = FieldType::Any;    // Array of scalars
    std::string registryKind;               // Component, ComponentName
    std::string selector = "type";          // Component

    Field& required() { isRequired = true; return *this; }
    Field& defaults(nlohmann::json value) { defaultValue = std::move(value); return *this; }
    Field& range(std::optional<double> lo, std::optional<double> hi) { min = lo; max = hi; return *this; }
    Field& oneOf(std::vector<std::string> values) { choices = std::move(values); return *this; }
    Field& items(FieldType type) { itemType = type; return *this; }
    Field& items(Schema schema);
    Field& of(Schema schema);
    Field& component(std::string kind, std::string selectorKey = "type")
    {
        registryKind = std::move(kind);
        selector = std::move(selectorKey);
        return *this;
    }
};

class Schema {
public:
    Field& field(std::string name, FieldType type, std::string doc);
    const std::vector<Field>& fields() const { return fields_; }
    const Field* find(const std::string& name) const;
    bool empty() const { return fields_.empty(); }

    // Appends one issue per problem under `path`; never throws for bad input.
    void validate(const nlohmann::json& value, const std::string& path, std::vector<ConfigIssue>& issues) const;
    // Returns `value` with every missing optional field set to its default, recursively.
    nlohmann::json withDefaults(const nlohmann::json& value) const;

    // One line per field: "name (type, default 3): doc", for `omnilab-cli list --verbose`.
    std::vector<std::string> describe() const;

private:
    std::vector<Field> fields_;
};

// One field an object in a document may hold, as the composer's property editor shows it.
struct FieldView {
    std::string name;
    FieldType type = FieldType::Any;
    std::string doc;
    bool required = false;
    bool selector = false;             // names the component ("type", a dataset's "format")
    std::vector<std::string> choices;  // Enum, and a selector's registered components
    nlohmann::json defaultValue;
    std::optional<double> min, max;
};

// Every field the object at `pointer` in `document` may hold, in the schema's order,
// following `root` down through objects, arrays and components (a component's options
// come from the component its own selector names; an unknown one contributes none).
// Empty when `pointer` is not an object the schema describes.
std::vector<FieldView> fieldsAt(const Schema& root, const nlohmann::json& document, const std::string& pointer);

std::string describeJsonValue(const nlohmann::json& value);
// Escapes "~" and "/" in a key for use in a JSON pointer (RFC 6901).
std::string escapeJsonPointer(const std::string& key);
std::string typeName(FieldType type);

} // namespace omnilab
