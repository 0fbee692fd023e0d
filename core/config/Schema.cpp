#include "core/config/Schema.h"

#include <cmath>
#include <set>
#include <sstream>

#include "core/config/Registry.h"

namespace omnilab {

using nlohmann::json;

Field& Field::items(Schema schema)
{
    child = std::make_shared<Schema>(std::move(schema));
    itemType = FieldType::Object;
    return *this;
}

Field& Field::of(Schema schema)
{
    child = std::make_shared<Schema>(std::move(schema));
    return *this;
}

Field& Schema::field(std::string name, FieldType type, std::string doc)
{
    Field f;
    f.name = std::move(name);
    f.type = type;
    f.doc = std::move(doc);
    fields_.push_back(std::move(f));
    return fields_.back();
}

const Field* Schema::find(const std::string& name) const
{
    for (const auto& f : fields_)
        if (f.name == name)
            return &f;
    return nullptr;
}

std::string describeJsonValue(const json& value)
{
    std::string text = value.dump();
    if (text.size() > 40)
        text = text.substr(0, 37) + "...";
    return text;
}

std::string typeName(FieldType type)
{
    switch (type) {
    case FieldType::String: return "a string";
    case FieldType::Integer: return "an integer";
    case FieldType::PositiveInteger: return "a positive integer";
    case FieldType::Number: return "a number";
    case FieldType::Boolean: return "true or false";
    case FieldType::Enum: return "one of the listed strings";
    case FieldType::Object: return "an object";
    case FieldType::Array: return "an array";
    case FieldType::Component: return "an object naming a component";
    case FieldType::ComponentName: return "a component name";
    case FieldType::StringMap: return "an object of strings";
    case FieldType::ComponentMap: return "an object of named components";
    case FieldType::Any: return "any value";
    }
    return "a value";
}

std::string escapeJsonPointer(const std::string& key)
{
    std::string out;
    for (char c : key) {
        if (c == '~')
            out += "~0";
        else if (c == '/')
            out += "~1";
        else
            out += c;
    }
    return out;
}

json componentDefaults(const Field& f, const json& v)
{
    if (!v.is_object())
        return v;
    auto sel = v.find(f.selector);
    const RegistryBase* registry = findRegistry(f.registryKind);
    if (sel == v.end() || !sel->is_string() || !registry || !registry->contains(sel->get<std::string>()))
        return v;
    json out = registry->info(sel->get<std::string>()).options.withDefaults(v);
    return f.child ? f.child->withDefaults(out) : out;
}

namespace {

std::string join(const std::vector<std::string>& items)
{
    std::string text;
    for (const auto& item : items)
        text += (text.empty() ? "" : ", ") + item;
    return text;
}

std::string formatNumber(double v)
{
    std::ostringstream out;
    out << v;
    return out.str();
}

bool isInteger(const json& v)
{
    // Integers beyond ±2^53 are not exact as JSON numbers and would overflow later.
    constexpr double limit = 9007199254740992.0;
    if (v.is_number_unsigned())
        return v.get<uint64_t>() <= static_cast<uint64_t>(limit);
    if (v.is_number_integer())
        return std::abs(v.get<double>()) <= limit;
    if (v.is_number_float()) {
        double d = v.get<double>();
        return std::isfinite(d) && std::floor(d) == d && std::abs(d) <= limit;
    }
    return false;
}

void addIssue(std::vector<ConfigIssue>& issues, const std::string& path, std::string message)
{
    issues.push_back({path, std::move(message)});
}

void expectGot(std::vector<ConfigIssue>& issues, const std::string& path, const std::string& expected, const json& got)
{
    addIssue(issues, path, "expected " + expected + ", got " + describeJsonValue(got));
}

void validateComponentName(const Field& f, const json& v, const std::string& path, std::vector<ConfigIssue>& issues)
{
    if (!v.is_string()) {
        expectGot(issues, path, "the name of a " + f.registryKind, v);
        return;
    }
    const RegistryBase* registry = findRegistry(f.registryKind);
    if (!registry)
        return;
    if (!registry->contains(v.get<std::string>()))
        addIssue(issues, path,
                 "unknown " + f.registryKind + " \"" + clipped(v.get<std::string>()) + "\" (registered: " + join(registry->names()) + ")");
}

void validateValue(const Field& f, FieldType type, const json& v, const std::string& path, std::vector<ConfigIssue>& issues);

void validateComponent(const Field& f, const json& v, const std::string& path, std::vector<ConfigIssue>& issues)
{
    if (!v.is_object()) {
        expectGot(issues, path, "an object with a \"" + f.selector + "\" naming a " + f.registryKind, v);
        return;
    }
    auto sel = v.find(f.selector);
    if (sel == v.end()) {
        addIssue(issues, path + "/" + f.selector, "missing required field (the " + f.registryKind + " to use)");
        return;
    }
    Field nameField = f;
    validateComponentName(nameField, *sel, path + "/" + f.selector, issues);
    if (!sel->is_string())
        return;
    const RegistryBase* registry = findRegistry(f.registryKind);
    if (!registry || !registry->contains(sel->get<std::string>()))
        return;
    ComponentInfo info = registry->info(sel->get<std::string>());
    json options = v;
    options.erase(f.selector);
    // Fields shared by every component of this slot (e.g. a dataset's "name") live in `child`.
    Schema combined = info.options;
    if (f.child)
        for (const auto& shared : f.child->fields())
            if (!combined.find(shared.name))
                combined.field(shared.name, shared.type, shared.doc) = shared;
    combined.validate(options, path, issues);
}

void validateValue(const Field& f, FieldType type, const json& v, const std::string& path, std::vector<ConfigIssue>& issues)
{
    switch (type) {
    case FieldType::Any:
        return;
    case FieldType::String:
        if (!v.is_string())
            expectGot(issues, path, "a string", v);
        else if (f.min && static_cast<double>(v.get<std::string>().size()) < *f.min)
            addIssue(issues, path, "must not be empty");
        return;
    case FieldType::Boolean:
        if (!v.is_boolean())
            expectGot(issues, path, "true or false", v);
        return;
    case FieldType::Integer:
    case FieldType::PositiveInteger:
    case FieldType::Number: {
        bool ok = type == FieldType::Number ? v.is_number() : isInteger(v);
        if (ok && type == FieldType::PositiveInteger && v.get<double>() < 1)
            ok = false;
        if (!ok) {
            expectGot(issues, path, typeName(type), v);
            return;
        }
        double d = v.get<double>();
        if (f.min && d < *f.min)
            addIssue(issues, path, "must be at least " + formatNumber(*f.min) + ", got " + describeJsonValue(v));
        else if (f.max && d > *f.max)
            addIssue(issues, path, "must be at most " + formatNumber(*f.max) + ", got " + describeJsonValue(v));
        return;
    }
    case FieldType::Enum:
        if (!v.is_string()) {
            expectGot(issues, path, "one of " + join(f.choices), v);
            return;
        }
        for (const auto& c : f.choices)
            if (c == v.get<std::string>())
                return;
        addIssue(issues, path, "expected one of " + join(f.choices) + ", got " + describeJsonValue(v));
        return;
    case FieldType::Object:
        if (!v.is_object()) {
            expectGot(issues, path, "an object", v);
            return;
        }
        if (f.child)
            f.child->validate(v, path, issues);
        return;
    case FieldType::StringMap:
        if (!v.is_object()) {
            expectGot(issues, path, "an object of strings", v);
            return;
        }
        for (auto it = v.begin(); it != v.end(); ++it)
            if (!it.value().is_string())
                expectGot(issues, path + "/" + escapeJsonPointer(it.key()), "a string", it.value());
        return;
    case FieldType::ComponentName:
        validateComponentName(f, v, path, issues);
        return;
    case FieldType::ComponentMap:
        if (!v.is_object()) {
            expectGot(issues, path, "an object of named " + f.registryKind + "s", v);
            return;
        }
        for (auto it = v.begin(); it != v.end(); ++it)
            validateComponent(f, it.value(), path + "/" + escapeJsonPointer(it.key()), issues);
        return;
    case FieldType::Component:
        validateComponent(f, v, path, issues);
        return;
    case FieldType::Array: {
        if (!v.is_array()) {
            expectGot(issues, path, "an array", v);
            return;
        }
        if (f.min && static_cast<double>(v.size()) < *f.min)
            addIssue(issues, path, "expected at least " + formatNumber(*f.min) + " item(s), got " + std::to_string(v.size()));
        if (f.max && static_cast<double>(v.size()) > *f.max)
            addIssue(issues, path, "expected at most " + formatNumber(*f.max) + " item(s), got " + std::to_string(v.size()));
        Field item = f;
        item.min.reset();
        item.max.reset();
        for (size_t i = 0; i < v.size(); ++i) {
            const std::string itemPath = path + "/" + std::to_string(i);
            if (f.itemType == FieldType::Object && f.child)
                validateValue(item, FieldType::Object, v[i], itemPath, issues);
            else
                validateValue(item, f.itemType, v[i], itemPath, issues);
        }
        return;
    }
    }
}

} // namespace

void Schema::validate(const json& value, const std::string& path, std::vector<ConfigIssue>& issues) const
{
    if (!value.is_object()) {
        expectGot(issues, path, "an object", value);
        return;
    }
    std::vector<std::string> known;
    for (const auto& f : fields_)
        known.push_back(f.name);
    for (auto it = value.begin(); it != value.end(); ++it) {
        if (!find(it.key()))
            addIssue(issues, path + "/" + escapeJsonPointer(it.key()),
                     "unknown field" + (known.empty() ? std::string(" (this component takes no options)")
                                                      : " (known: " + join(known) + ")"));
    }
    for (const auto& f : fields_) {
        const std::string fieldPath = path + "/" + escapeJsonPointer(f.name);
        auto it = value.find(f.name);
        if (it == value.end()) {
            if (f.isRequired)
                addIssue(issues, fieldPath, "missing required field (" + typeName(f.type) + ": " + f.doc + ")");
            continue;
        }
        validateValue(f, f.type, *it, fieldPath, issues);
    }
}

json Schema::withDefaults(const json& value) const
{
    if (!value.is_object())
        return value;
    json out = value;
    for (const auto& f : fields_) {
        auto it = out.find(f.name);
        if (it == out.end()) {
            if (!f.defaultValue.is_null())
                out[f.name] = f.defaultValue;
            else if (f.type == FieldType::Object && f.child)
                out[f.name] = json::object();
            else
                continue;
            it = out.find(f.name); // a default gets its own nested defaults below
        }
        if (f.type == FieldType::Object && f.child) {
            *it = f.child->withDefaults(*it);
        } else if (f.type == FieldType::Array && f.itemType == FieldType::Object && f.child && it->is_array()) {
            for (auto& item : *it)
                item = f.child->withDefaults(item);
        } else if (f.type == FieldType::Array && f.itemType == FieldType::Component && it->is_array()) {
            for (auto& item : *it)
                item = componentDefaults(f, item);
        } else if (f.type == FieldType::ComponentMap && it->is_object()) {
            for (auto& item : *it)
                item = componentDefaults(f, item);
        } else if (f.type == FieldType::Component) {
            *it = componentDefaults(f, *it);
        }
    }
    return out;
}

std::vector<std::string> Schema::describe() const
{
    std::vector<std::string> lines;
    for (const auto& f : fields_) {
        std::string line = f.name + " (" + typeName(f.type);
        if (f.type == FieldType::Enum)
            line += ": " + join(f.choices);
        if (f.isRequired)
            line += ", required";
        else if (!f.defaultValue.is_null())
            line += ", default " + describeJsonValue(f.defaultValue);
        line += "): " + f.doc;
        lines.push_back(line);
    }
    return lines;
}

namespace {

// Where the walk down a document stands: the object schema that describes the value here,
// and for a component the registry it comes from, its selector key and shared fields.
struct SchemaPlace {
    std::shared_ptr<const Schema> schema;  // fields of a plain object
    std::string kind, selector;            // a component: its registry and selector key
    std::shared_ptr<const Schema> shared;  // a component's fields beside its own options
    bool valid = false;
};

FieldView viewOf(const Field& f)
{
    FieldView v;
    v.name = f.name;
    v.type = f.type;
    v.doc = f.doc;
    v.required = f.isRequired;
    v.choices = f.choices;
    v.defaultValue = f.defaultValue;
    v.min = f.min;
    v.max = f.max;
    if (f.type == FieldType::ComponentName)
        if (const RegistryBase* r = findRegistry(f.registryKind))
            v.choices = r->names();
    return v;
}

std::vector<FieldView> fieldsOf(const SchemaPlace& place, const nlohmann::json& value)
{
    std::vector<FieldView> out;
    if (!place.valid)
        return out;
    if (place.schema)
        for (const Field& f : place.schema->fields())
            out.push_back(viewOf(f));
    if (place.kind.empty())
        return out;
    const RegistryBase* registry = findRegistry(place.kind);
    FieldView sel;
    sel.name = place.selector;
    sel.type = FieldType::Enum;
    sel.selector = true;
    sel.required = true;
    sel.doc = "which " + place.kind + " this is";
    if (registry)
        sel.choices = registry->names();
    out.push_back(sel);
    if (place.shared)
        for (const Field& f : place.shared->fields())
            out.push_back(viewOf(f));
    if (registry && value.is_object() && value.contains(place.selector) && value[place.selector].is_string() &&
        registry->contains(value[place.selector].get<std::string>())) {
        const ComponentInfo info = registry->info(value[place.selector].get<std::string>()); // kept alive while its fields are read
        for (const Field& f : info.options.fields())
            if (f.name != place.selector)
                out.push_back(viewOf(f));
    }
    return out;
}

// The field named `name` at `place` (a component's options included), or null.
std::shared_ptr<const Field> fieldIn(const SchemaPlace& place, const nlohmann::json& value, const std::string& name)
{
    auto look = [&](const Schema* s) -> std::shared_ptr<const Field> {
        if (!s)
            return nullptr;
        const Field* f = s->find(name);
        return f ? std::make_shared<Field>(*f) : nullptr;
    };
    if (auto f = look(place.schema.get()))
        return f;
    if (place.kind.empty())
        return nullptr;
    if (auto f = look(place.shared.get()))
        return f;
    const RegistryBase* registry = findRegistry(place.kind);
    if (registry && value.is_object() && value.contains(place.selector) && value[place.selector].is_string() &&
        registry->contains(value[place.selector].get<std::string>())) {
        const Schema options = registry->info(value[place.selector].get<std::string>()).options;
        return look(&options);
    }
    return nullptr;
}

SchemaPlace componentPlace(const Field& f)
{
    SchemaPlace p;
    p.valid = true;
    p.kind = f.registryKind;
    p.selector = f.selector;
    p.shared = f.child;
    return p;
}

} // namespace

std::vector<FieldView> fieldsAt(const Schema& root, const nlohmann::json& document, const std::string& pointer)
{
    SchemaPlace place;
    place.valid = true;
    place.schema = std::shared_ptr<const Schema>(&root, [](const Schema*) {});
    const nlohmann::json* value = &document;
    std::vector<std::string> tokens;
    for (size_t at = 0; at < pointer.size();) {
        if (pointer[at] != '/')
            return {};
        const size_t next = pointer.find('/', at + 1);
        std::string token = pointer.substr(at + 1, next == std::string::npos ? std::string::npos : next - at - 1);
        for (size_t p; (p = token.find("~1")) != std::string::npos;)
            token.replace(p, 2, "/");
        for (size_t p; (p = token.find("~0")) != std::string::npos;)
            token.replace(p, 2, "~");
        tokens.push_back(token);
        at = next == std::string::npos ? pointer.size() : next;
    }
    for (size_t i = 0; i < tokens.size(); ++i) {
        const std::string& token = tokens[i];
        if (!value->is_object() || !value->contains(token))
            return {};
        const auto field = fieldIn(place, *value, token);
        if (!field)
            return {};
        value = &(*value)[token];
        SchemaPlace next;
        switch (field->type) {
        case FieldType::Object:
            next.valid = field->child != nullptr;
            next.schema = field->child;
            break;
        case FieldType::Component:
            next = componentPlace(*field);
            break;
        case FieldType::Array:
        case FieldType::ComponentMap: {
            // The element named by the next token.
            if (i + 1 >= tokens.size())
                return {};
            const std::string& key = tokens[++i];
            if (field->type == FieldType::Array) {
                if (!value->is_array() || key.empty() || key.size() > 9 || key.find_first_not_of("0123456789") != std::string::npos)
                    return {};
                const size_t index = std::stoul(key);
                if (index >= value->size())
                    return {};
                value = &(*value)[index];
                if (field->itemType == FieldType::Component)
                    next = componentPlace(*field);
                else {
                    next.valid = field->child != nullptr;
                    next.schema = field->child;
                }
            } else {
                if (!value->is_object() || !value->contains(key))
                    return {};
                value = &(*value)[key];
                next = componentPlace(*field);
            }
            break;
        }
        default:
            return {};
        }
        place = next;
    }
    if (!value->is_object())
        return {};
    return fieldsOf(place, *value);
}

} // namespace omnilab
