using System.Text.Json.Nodes;

namespace Runway.Pipelines;

/// <summary>A pipeline's parameters as a JSON Schema (draft 2020-12), for clients and the web form.</summary>
public static class ParameterSchema
{
    public const string FileIdFormat = "runway-file-id";
    public const string FileIdPattern = "^f_[0-9A-HJKMNP-TV-Z]{26}$";

    public static JsonObject ToJsonSchema(Pipeline pipeline)
    {
        var properties = new JsonObject();
        foreach (var parameter in pipeline.Parameters)
        {
            properties[parameter.Name] = Property(parameter);
        }
        var schema = new JsonObject
        {
            ["$schema"] = "https://json-schema.org/draft/2020-12/schema",
            ["title"] = pipeline.Title ?? pipeline.Name,
        };
        if (pipeline.Description is not null)
        {
            schema["description"] = pipeline.Description;
        }
        schema["type"] = "object";
        schema["properties"] = properties;
        schema["required"] = new JsonArray([.. pipeline.Parameters.Where(p => p.Required).Select(p => (JsonNode)p.Name)]);
        schema["additionalProperties"] = false;
        return schema;
    }

    private static JsonObject Property(Parameter parameter)
    {
        var property = new JsonObject();
        switch (parameter.Type)
        {
            case ParameterType.Enum:
                property["type"] = "string";
                property["enum"] = new JsonArray([.. parameter.Values.Select(v => (JsonNode)v)]);
                break;
            case ParameterType.File:
                property["type"] = "string";
                property["format"] = FileIdFormat;
                property["pattern"] = FileIdPattern;
                break;
            default:
                property["type"] = ParameterParser.Name(parameter.Type);
                break;
        }
        if (parameter.Description is not null)
        {
            property["description"] = parameter.Description;
        }
        if (parameter.Default is not null)
        {
            property["default"] = parameter.Default.DeepClone();
        }
        if (parameter.Minimum is { } min)
        {
            property["minimum"] = Number(min);
        }
        if (parameter.Maximum is { } max)
        {
            property["maximum"] = Number(max);
        }
        // ECMA-262 patterns are unanchored while ours must match the whole value: anchor it for clients.
        if (parameter.Pattern is { } pattern)
        {
            property["pattern"] = $"^(?:{pattern})$";
        }
        return property;
    }

    private static JsonValue Number(double value) =>
        double.IsInteger(value) && Math.Abs(value) < 1e15 ? JsonValue.Create((long)value) : JsonValue.Create(value);
}
