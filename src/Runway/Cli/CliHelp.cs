using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Runway.Cli;

/// <summary>
/// Examples and exit codes printed after a command's own help. They cannot go in the description: the
/// parent's command list prints descriptions whole, and a one-line summary there reads better.
/// </summary>
internal static class CliHelp
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<Command, string> Epilogs = [];

    public static T WithEpilog<T>(this T command, string text)
        where T : Command
    {
        Epilogs.AddOrUpdate(command, text);
        return command;
    }

    public static void Install(RootCommand root)
    {
        var help = root.Options.OfType<HelpOption>().Single();
        if (help.Action is HelpAction inner)
        {
            help.Action = new EpilogAction(inner);
        }
    }

    private sealed class EpilogAction(HelpAction inner) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            var code = inner.Invoke(parseResult);
            if (Epilogs.TryGetValue(parseResult.CommandResult.Command, out var text))
            {
                var output = parseResult.InvocationConfiguration.Output;
                output.WriteLine(text.TrimEnd());
                output.WriteLine();
            }
            return code;
        }
    }
}
