using System.Text.Json.Nodes;
using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

public class ParameterValidatorTests
{
    private static readonly Pipeline Pipeline = PipelineFiles.Parse("""
        name: t
        version: '1'
        command: [x]
        parameters:
          input: {type: file, required: true}
          count: {type: integer, default: 5, minimum: 1, maximum: 10}
          ratio: {type: number, minimum: 0.5, maximum: 2.5}
          loud:  {type: boolean}
          lang:  {type: enum, values: [en, fr, de], default: en}
          label: {type: string, pattern: "[a-z]+"}
          title: {type: string, required: true}
        """);

    private static ParameterValidation Validate(string json) => ParameterValidator.Validate(Pipeline, JsonNode.Parse(json)!.AsObject());

    private static JsonObject Valid(string extra = "") =>
        JsonNode.Parse($$"""{"input": "{{PipelineFiles.FileId}}", "title": "T"{{extra}}}""")!.AsObject();

    [Fact]
    public void Validate_FillsDefaultsInDeclarationOrder_WhenOptionalParametersAreAbsent()
    {
        var result = ParameterValidator.Validate(Pipeline, JsonNode.Parse($$"""{"title": "T", "input": "{{PipelineFiles.FileId}}"}""")!.AsObject());

        Assert.True(result.IsValid);
        Assert.Equal($$"""{"input":"{{PipelineFiles.FileId}}","count":5,"lang":"en","title":"T"}""", result.Params.ToJsonString());
    }

    [Fact]
    public void Validate_KeepsGivenValues_WhenAllAreValid()
    {
        var result = ParameterValidator.Validate(Pipeline, Valid(""", "count": 10, "ratio": 2, "loud": true, "lang": "fr", "label": "abc" """));

        Assert.True(result.IsValid, string.Join("; ", result.Errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
        Assert.Equal(
            $$"""{"input":"{{PipelineFiles.FileId}}","count":10,"ratio":2,"loud":true,"lang":"fr","label":"abc","title":"T"}""",
            result.Params.ToJsonString());
    }

    [Fact]
    public void Validate_ReportsRequired_WhenInputIsNull()
    {
        var result = ParameterValidator.Validate(Pipeline, null);

        Assert.Equal(["input", "title"], result.Errors.Keys.Order());
        Assert.Equal(["is required"], result.Errors["input"]);
        Assert.Equal("""{"count":5,"lang":"en"}""", result.Params.ToJsonString());
    }

    [Theory]
    [InlineData("count", "\"3\"", "must be an integer")]
    [InlineData("count", "3.5", "must be an integer")]
    [InlineData("count", "3.0", "must be an integer")]
    [InlineData("count", "true", "must be an integer")]
    [InlineData("count", "0", "must be at least 1")]
    [InlineData("count", "11", "must be at most 10")]
    [InlineData("count", "99999999999999999999", "must be an integer")]
    [InlineData("ratio", "\"1\"", "must be a number")]
    [InlineData("ratio", "0.1", "must be at least 0.5")]
    [InlineData("ratio", "3", "must be at most 2.5")]
    [InlineData("loud", "\"true\"", "must be true or false")]
    [InlineData("loud", "1", "must be true or false")]
    [InlineData("lang", "\"es\"", "must be one of: en, fr, de")]
    [InlineData("lang", "\"EN\"", "must be one of: en, fr, de")]
    [InlineData("lang", "1", "must be one of: en, fr, de")]
    [InlineData("input", "\"abc\"", "must be a file id (as returned by POST /api/v1/files)")]
    [InlineData("input", "\"f_01jd3z6s7t8v9w0x1y2z3a4b5c\"", "must be a file id (as returned by POST /api/v1/files)")]
    [InlineData("input", "42", "must be a file id (as returned by POST /api/v1/files)")]
    [InlineData("label", "5", "must be a string")]
    [InlineData("label", "\"ABC\"", "must match the pattern [a-z]+")]
    [InlineData("label", "\"abc1\"", "must match the pattern [a-z]+")]
    [InlineData("label", "\"abc\\n\"", "must match the pattern [a-z]+")]
    [InlineData("label", "[\"abc\"]", "must be a string")]
    [InlineData("title", "\"\"", "is required")]
    [InlineData("title", "null", "is required")]
    [InlineData("title", "\"a\\u0000b\"", "must not contain a NUL character")]
    public void Validate_ReportsField_WhenValueIsBad(string name, string json, string message)
    {
        var input = Valid();
        input[name] = JsonNode.Parse(json);

        var result = ParameterValidator.Validate(Pipeline, input);

        Assert.False(result.IsValid);
        Assert.Equal([name], result.Errors.Keys);
        Assert.Equal([message], result.Errors[name]);
        Assert.False(result.Params.ContainsKey(name));
    }

    [Theory]
    [InlineData("count", "1")]
    [InlineData("count", "10")]
    [InlineData("ratio", "0.5")]
    [InlineData("ratio", "2.5")]
    [InlineData("ratio", "1")]
    [InlineData("loud", "false")]
    [InlineData("label", "\"z\"")]
    public void Validate_Accepts_WhenValueIsOnTheLimit(string name, string json)
    {
        var input = Valid();
        input[name] = JsonNode.Parse(json);

        var result = ParameterValidator.Validate(Pipeline, input);

        Assert.True(result.IsValid);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(json), result.Params[name]));
    }

    [Fact]
    public void Validate_ReportsLength_WhenStringWouldNotFitInAnArgument()
    {
        var input = Valid();
        input["title"] = new string('x', ParameterValidator.MaxStringLength + 1);

        var result = ParameterValidator.Validate(Pipeline, input);

        Assert.Equal(["must be at most 16384 characters (upload longer text as a file)"], result.Errors["title"]);
    }

    [Fact]
    public void Validate_TreatsNullAsAbsent_WhenParameterIsOptional()
    {
        var result = Validate($$"""{"input": "{{PipelineFiles.FileId}}", "title": "T", "count": null, "label": null}""");

        Assert.True(result.IsValid);
        Assert.Equal(5, result.Params["count"]!.GetValue<long>());
        Assert.False(result.Params.ContainsKey("label"));
    }

    [Fact]
    public void Validate_ReportsUnknownParameter_UnderItsOwnName()
    {
        var result = ParameterValidator.Validate(Pipeline, Valid(""", "colour": "red", "Count": 3"""));

        Assert.Equal(["Count", "colour"], result.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["unknown parameter"], result.Errors["colour"]);
    }

    [Fact]
    public void Validate_ReportsEveryBadField_WhenSeveralAreWrong()
    {
        var result = Validate("""{"input": "nope", "count": 0, "lang": "xx"}""");

        Assert.Equal(["count", "input", "lang", "title"], result.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Validate_GivesUp_WhenPatternBacktracksForever()
    {
        var pipeline = PipelineFiles.Parse("name: t\nversion: '1'\ncommand: [x]\nparameters:\n  s: {type: string, pattern: '(a|aa)+(b|c)'}\n");

        var result = ParameterValidator.Validate(pipeline, new JsonObject { ["s"] = new string('a', 5000) + "!" });

        Assert.Equal(["s"], result.Errors.Keys);
    }

    [Fact]
    public void Validate_CopiesDefaults_SoCallersCannotChangeThePipeline()
    {
        var result = ParameterValidator.Validate(Pipeline, Valid());
        result.Params["count"] = 7;

        Assert.Equal(5, Pipeline.Parameters.Single(p => p.Name == "count").Default!.GetValue<long>());
    }
}
