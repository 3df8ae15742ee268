using System.Text.Json.Nodes;
using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

public class ParameterSchemaTests
{
    [Fact]
    public void ToJsonSchema_DescribesEveryParameterType()
    {
        var pipeline = PipelineFiles.Parse("""
            name: wordstats
            version: '1'
            title: Word statistics
            description: Counts words.
            command: [x]
            parameters:
              input:      {type: file, required: true, description: Text file}
              min_length: {type: integer, default: 1, minimum: 1, maximum: 100}
              ratio:      {type: number, minimum: 0.5}
              lowercase:  {type: boolean, default: false}
              language:   {type: enum, values: [en, fr], default: en}
              label:      {type: string, pattern: "[a-z]+|x"}
            """);

        var schema = ParameterSchema.ToJsonSchema(pipeline);

        var expected = JsonNode.Parse("""
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema",
              "title": "Word statistics",
              "description": "Counts words.",
              "type": "object",
              "properties": {
                "input": {"type": "string", "format": "runway-file-id", "pattern": "^f_[0-9A-HJKMNP-TV-Z]{26}$", "description": "Text file"},
                "min_length": {"type": "integer", "default": 1, "minimum": 1, "maximum": 100},
                "ratio": {"type": "number", "minimum": 0.5},
                "lowercase": {"type": "boolean", "default": false},
                "language": {"type": "string", "enum": ["en", "fr"], "default": "en"},
                "label": {"type": "string", "pattern": "^(?:[a-z]+|x)$"}
              },
              "required": ["input"],
              "additionalProperties": false
            }
            """);
        Assert.True(JsonNode.DeepEquals(expected, schema), schema.ToJsonString());
        Assert.Equal(["input", "min_length", "ratio", "lowercase", "language", "label"], schema["properties"]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public void ToJsonSchema_UsesNameAsTitle_WhenPipelineHasNoParameters()
    {
        var schema = ParameterSchema.ToJsonSchema(PipelineFiles.Parse("name: bare\nversion: '1'\ncommand: [x]\n"));

        Assert.Equal("bare", schema["title"]!.GetValue<string>());
        Assert.Empty(schema["properties"]!.AsObject());
        Assert.Empty(schema["required"]!.AsArray());
    }

    [Fact]
    public void FileIdPattern_MatchesTheIdsRunwayGenerates()
    {
        var id = Runway.Runs.Ids.NewFileId(TimeProvider.System);

        Assert.Matches(ParameterSchema.FileIdPattern, id);
        Assert.DoesNotMatch(ParameterSchema.FileIdPattern, id.ToLowerInvariant());
    }
}
