using System.Text.RegularExpressions;
using Runway.Runs;
using YamlDotNet.RepresentationModel;

namespace Runway.Pipelines;

/// <summary>Reads <c>container: {image: NAME, engine: podman|docker|apptainer, pull: never}</c>.</summary>
public static partial class ContainerParser
{
    public static readonly string[] Engines = ["podman", "docker", "apptainer"];
    private static readonly string[] Keys = ["image", "engine", "pull"];

    /// <summary>Whether a text is an image name the engines take as one argument: never an option (a leading -), never spaces.</summary>
    public static bool IsImage(string text) => ImageText().IsMatch(text);

    internal static ContainerSpec? Read(YamlFields yaml, YamlNode? node)
    {
        if (node is null)
        {
            return null;
        }
        var entries = yaml.Entries(yaml.Mapping(node, "container"), "container", Keys).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        if (!entries.TryGetValue("image", out var imageNode))
        {
            throw yaml.Error(node, "container.image", "is required (a local image such as localhost/tool:1, or an apptainer image file)");
        }
        var image = yaml.String(imageNode, "container.image");
        // An image is one argument of the engine's command line: never an option (a leading -), never spaces.
        if (!IsImage(image))
        {
            throw yaml.Error(imageNode, "container.image", "must be an image name such as localhost/tool:1 or registry.example/tool@sha256:…, or an absolute image file path");
        }
        string? engine = null;
        if (entries.TryGetValue("engine", out var engineNode))
        {
            engine = yaml.String(engineNode, "container.engine");
            if (!Engines.Contains(engine))
            {
                throw yaml.Error(engineNode, "container.engine", "must be podman, docker or apptainer");
            }
        }
        if (entries.TryGetValue("pull", out var pullNode) && yaml.String(pullNode, "container.pull") != "never")
        {
            throw yaml.Error(pullNode, "container.pull", "must be never: Runway runs local images only, pulling them is the operator's business");
        }
        return new ContainerSpec { Image = image, Engine = engine };
    }

    [GeneratedRegex(@"^(?:/[A-Za-z0-9._/+-]{1,255}|[A-Za-z0-9][A-Za-z0-9._/:@+-]{0,254})\z")]
    private static partial Regex ImageText();
}
