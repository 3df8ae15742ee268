using System.Text.Json.Nodes;
using Runway.Cli;

namespace Runway.Tests.Cli;

public class ParameterValuesTests
{
    private static readonly JsonObject Schema = JsonNode.Parse("""
        {"type":"object","properties":{
          "input":{"type":"string","format":"runway-file-id"},
          "min_length":{"type":"integer","minimum":1},
          "ratio":{"type":"number"},
          "lowercase":{"type":"boolean"},
          "language":{"type":"string","enum":["en","fr"]},
          "maybe":{"type":["integer","null"]}},
         "required":["input"]}
        """)!.AsObject();

    [Theory]
    [InlineData("min_length=3", "3")]
    [InlineData("min_length=-12", "-12")]
    [InlineData("ratio=0.25", "0.25")]
    [InlineData("ratio=3", "3")]
    [InlineData("ratio=1e3", "1000")]
    [InlineData("lowercase=true", "true")]
    [InlineData("lowercase=YES", "true")]
    [InlineData("lowercase=1", "true")]
    [InlineData("lowercase=no", "false")]
    [InlineData("lowercase=0", "false")]
    [InlineData("language=fr", "\"fr\"")]
    [InlineData("language=a=b", "\"a=b\"")]
    [InlineData("input=f_01JD0000000000000000000000", "\"f_01JD0000000000000000000000\"")]
    [InlineData("maybe=7", "7")]
    public void Build_ConvertsToTheSchemaType_WhenValueFits(string pair, string json)
    {
        var set = ParameterValues.Build(null, [pair], Schema);

        var key = pair[..pair.IndexOf('=', StringComparison.Ordinal)];
        Assert.Equal(json, set.Params[key]!.ToJsonString());
        Assert.Empty(set.Uploads);
    }

    [Theory]
    [InlineData("min_length=abc", "min_length: 'abc' is not an integer")]
    [InlineData("min_length=2.5", "min_length: '2.5' is not an integer")]
    [InlineData("ratio=fast", "ratio: 'fast' is not a number")]
    [InlineData("ratio=NaN", "ratio: 'NaN' is not a number")]
    [InlineData("lowercase=maybe", "lowercase: 'maybe' is not a boolean")]
    [InlineData("nope=1", "unknown parameter 'nope'; it takes: input, min_length")]
    [InlineData("min_length", "expected key=value, got 'min_length'")]
    [InlineData("=3", "expected key=value, got '=3'")]
    public void Build_ThrowsAClearMessage_WhenValueDoesNotFit(string pair, string message)
    {
        var error = Assert.Throws<CliUsageException>(() => ParameterValues.Build(null, [pair], Schema));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_LetsKeyValueOverrideTheParamsFile_AndKeepsTheRest()
    {
        var fromFile = JsonNode.Parse("""{"min_length":1,"language":"en","lowercase":true}""")!.AsObject();

        var set = ParameterValues.Build(fromFile, ["min_length=5", "language=fr"], Schema);

        Assert.Equal("""{"min_length":5,"language":"fr","lowercase":true}""", set.Params.ToJsonString());
        Assert.Equal(1, fromFile["min_length"]!.GetValue<int>());
    }

    [Fact]
    public void Build_AsksForAnUpload_WhenAFileParameterStartsWithAt()
    {
        var set = ParameterValues.Build(null, ["input=@data/book.txt"], Schema);

        var upload = Assert.Single(set.Uploads);
        Assert.Equal(new PendingUpload("input", "data/book.txt"), upload);
    }

    [Fact]
    public void Build_KeepsAtSign_WhenTheParameterIsNotAFile()
    {
        var set = ParameterValues.Build(null, ["language=@en"], Schema);

        Assert.Equal("@en", set.Params["language"]!.GetValue<string>());
        Assert.Empty(set.Uploads);
    }

    [Fact]
    public void Build_PassesStrings_WhenThePipelineHasNoSchema()
    {
        var set = ParameterValues.Build(null, ["anything=42"], null);

        Assert.Equal("\"42\"", set.Params["anything"]!.ToJsonString());
    }
}
