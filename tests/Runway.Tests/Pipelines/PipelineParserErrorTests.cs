using Runway.Pipelines;

namespace Runway.Tests.Pipelines;

public class PipelineParserErrorTests
{
    private const string Head = "name: t\nversion: '1'\n";
    private const string Command = "command: [x]\n";

    public static TheoryData<string, string> Mistakes => new()
    {
        { "", "the file is empty" },
        { "name: [oops", "not valid YAML" },
        { "name: a\nname: b\n", "not valid YAML: Duplicate key" },
        { "- a\n- b\n", "the file must be a mapping" },
        { "version: '1'\n" + Command, "name: is required" },
        { "name: Word_Stats\nversion: '1'\n" + Command, "name: must be lowercase" },
        { "name: t\n" + Command, "version: is required" },
        { Head + Command + "comand: [y]\n", "comand: unknown key" },
        { Head + Command + "parameters:\n  n: {type: str}\n", "parameters.n.type: unknown type 'str' (expected one of: string, integer, number, boolean, enum, file)" },
        { Head + Command + "parameters:\n  n: {default: 3}\n", "parameters.n: type is required" },
        { Head + Command + "parameters:\n  n: {type: integer, minimun: 3}\n", "parameters.n.minimun: unknown key" },
        { Head + Command + "parameters:\n  N: {type: string}\n", "parameters.N: a parameter name must be" },
        { Head + Command + "parameters:\n  run_dir: {type: string}\n", "parameters.run_dir: 'run_dir' is a built-in placeholder" },
        { Head + Command + "parameters:\n  n: {type: integer, default: abc}\n", "parameters.n.default: must be an integer" },
        { Head + Command + "parameters:\n  n: {type: integer, default: '3'}\n", "parameters.n.default: must be an integer" },
        { Head + Command + "parameters:\n  n: {type: integer, default: 2.5}\n", "parameters.n.default: must be an integer" },
        { Head + Command + "parameters:\n  b: {type: boolean, default: yes}\n", "parameters.b.default: must be true or false" },
        { Head + Command + "parameters:\n  n: {type: integer, default: 0, minimum: 1}\n", "parameters.n.default: must be at least 1" },
        { Head + Command + "parameters:\n  n: {type: number, default: 9.5, maximum: 2.5}\n", "parameters.n.default: must be at most 2.5" },
        { Head + Command + "parameters:\n  s: {type: string, pattern: '[a-z]+', default: abc1}\n", "parameters.s.default: must match the pattern [a-z]+" },
        { Head + Command + "parameters:\n  e: {type: enum, values: [a, b], default: c}\n", "parameters.e.default: must be one of: a, b" },
        { Head + Command + "parameters:\n  e: {type: enum}\n", "parameters.e: an enum parameter needs values" },
        { Head + Command + "parameters:\n  e: {type: enum, values: [a, a]}\n", "parameters.e.values: 'a' is listed twice" },
        { Head + Command + "parameters:\n  n: {type: integer, minimum: 5, maximum: 2}\n", "parameters.n: minimum (5) is greater than maximum (2)" },
        { Head + Command + "parameters:\n  s: {type: string, pattern: '([a-z'}\n", "parameters.s.pattern: is not a valid regular expression" },
        { Head + Command + "parameters:\n  s: {type: string, minimum: 1}\n", "parameters.s.minimum: applies only to integer and number parameters" },
        { Head + Command + "parameters:\n  n: {type: integer, pattern: x}\n", "parameters.n.pattern: applies only to string parameters" },
        { Head + Command + "parameters:\n  s: {type: string, values: [a]}\n", "parameters.s.values: applies only to enum parameters" },
        { Head + Command + "parameters:\n  f: {type: file, default: f_01JD3Z6S7T8V9W0X1Y2Z3A4B5C}\n", "parameters.f.default: a file parameter cannot have a default" },
        { Head + Command + "parameters:\n  s: {type: string, required: true, default: a}\n", "parameters.s.default: a required parameter cannot have a default" },
        { Head, "command: is required" },
        { Head + "command: []\n", "command: must not be empty" },
        { Head + "command: echo {name}\n", "command: must be a list of arguments" },
        { Head + "command:\n  - {if: b, then: [x]}\nparameters:\n  b: {type: boolean}\n", "command[0]: the first item must be the program" },
        { Head + "command: [x, '{nope}']\n", "command[1]: placeholder {nope} names no parameter" },
        { Head + "command: [x, '--a={s}']\nparameters:\n  s: {type: string}\n", "command[1]: {s} is optional without a default, so it may be absent" },
        { Head + "command: [x, {if: b, then: ['{s}']}]\nparameters:\n  s: {type: string}\n  b: {type: boolean}\n", "command[1].then[0]: {s} is optional without a default" },
        { Head + "command: [x, {if: nope, then: [y]}]\n", "command[1].if: 'nope' is not a parameter" },
        { Head + "command: [x, {if: b}]\nparameters:\n  b: {type: boolean}\n", "command[1]: a conditional item needs both if: and then:" },
        { Head + "command: [x, {if: b, then: []}]\nparameters:\n  b: {type: boolean}\n", "command[1].then: must not be empty" },
        { Head + "command: [x, 'awk { print }']\n", "command[1]: '{' at position 5 does not start a placeholder" },
        { Head + "command: [x, 'a}b']\n", "command[1]: a '}' without its '{'" },
        { Head + Command + "outputs: ['../secret']\n", "outputs[0]: must be a relative path or glob inside the run directory" },
        { Head + Command + "outputs: ['/etc/passwd']\n", "outputs[0]: must be a relative path" },
        { Head + Command + "resources: {memory: lots}\n", "resources.memory: must be a size" },
        { Head + Command + "resources: {cpus: 0}\n", "resources.cpus: must be a number of CPUs between 0.01 and 4096, such as 2 or 0.5" },
        { Head + Command + "resources: {cpus: 0.125}\n", "resources.cpus: must be a number of CPUs between 0.01 and 4096, such as 2 or 0.5" },
        { Head + Command + "resources: {time_limit: 10 minutes}\n", "resources.time_limit: must be a duration" },
        { Head + Command + "resources: {disk: 1G}\n", "resources.disk: unknown key" },
        { Head + Command + "time_limit: 0\n", "time_limit: must be more than 0 seconds" },
        { Head + Command + "time_limit: 1h\nresources: {time_limit: 2h}\n", "time_limit: is also given under resources" },
        { Head + Command + "env: {A: a}\nenvironment: {B: b}\n", "env: both env and environment are given" },
        { Head + Command + "env: {'1A': a}\n", "env.1A: a variable name must be" },
        { Head + Command + "env: {A: '{nope}'}\n", "env.A: placeholder {nope} names no parameter" },
        { Head + Command + "executor: Local Cluster\n", "executor: must be an executor name" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void Parse_Throws_WhenFileHasMistake(string yaml, string expected)
    {
        var error = Assert.Throws<PipelineFormatException>(() => PipelineParser.Parse(yaml, "/srv/pipelines/t.yaml"));

        Assert.StartsWith("/srv/pipelines/t.yaml: ", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_AcceptsOptionalParameter_WhenGuardedByItsOwnIf()
    {
        var pipeline = PipelineFiles.Parse(Head + "command: [x, {if: s, then: [--s, '{s}']}]\nparameters:\n  s: {type: string}\nenv: {S: '{s}'}\n");

        Assert.Equal("s", Assert.IsType<ConditionalPart>(pipeline.Command[1]).Parameter);
    }
}
