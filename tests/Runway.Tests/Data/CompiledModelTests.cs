using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using Microsoft.EntityFrameworkCore.Design.Internal;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Scaffolding;
using Microsoft.EntityFrameworkCore.Sqlite.Design.Internal;
using Microsoft.Extensions.DependencyInjection;
using Npgsql.EntityFrameworkCore.PostgreSQL.Design.Internal;
using Runway.Data;
using Runway.Tests.Fixtures;

namespace Runway.Tests.Data;

/// <summary>
/// The server opens its database with EF Core compiled models (src/Runway/Data/CompiledModels, one per provider:
/// <see cref="DatabaseConnection.Configure"/>) instead of building the model from the configurations at each start.
/// This is what keeps them true: it builds the model from the configurations as EF would, generates its compiled
/// model as <c>dotnet ef dbcontext optimize</c> does, and compares it with the checked-in files. After a change to an
/// entity or a configuration, write them again with
/// <c>RUNWAY_WRITE_COMPILED_MODELS=1 dotnet test --filter FullyQualifiedName~CompiledModelTests</c>.
/// </summary>
public sealed partial class CompiledModelTests
{
    private const string WriteVariable = "RUNWAY_WRITE_COMPILED_MODELS";

    public static TheoryData<string> Providers => ["Sqlite", "Postgres"];

    [Theory]
    [MemberData(nameof(Providers))]
    public void CheckedInCompiledModel_IsTheModelTheConfigurationsBuild(string provider)
    {
        var folder = Path.Combine(Repository.Root, "src", "Runway", "Data", "CompiledModels", provider);
        var generated = Generate(provider);
        if (Environment.GetEnvironmentVariable(WriteVariable) == "1")
        {
            Directory.CreateDirectory(folder);
            foreach (var stale in Directory.GetFiles(folder, "*.cs"))
            {
                File.Delete(stale);
            }
            foreach (var (name, text) in generated)
            {
                File.WriteAllText(Path.Combine(folder, name), text);
            }
        }
        var checkedIn = Directory.Exists(folder)
            ? Directory.GetFiles(folder, "*.cs").ToDictionary(f => Path.GetFileName(f), File.ReadAllText, StringComparer.Ordinal)
            : [];
        var hint = $"src/Runway/Data/CompiledModels/{provider} is not the model the configurations build: write it again with {WriteVariable}=1 dotnet test --filter FullyQualifiedName~CompiledModelTests";
        Assert.True(generated.Keys.Order(StringComparer.Ordinal).SequenceEqual(checkedIn.Keys.Order(StringComparer.Ordinal)), hint);
        foreach (var (name, text) in generated)
        {
            Assert.True(WithoutModelId(text) == WithoutModelId(checkedIn[name]), $"{name}: {hint}");
        }
    }

    /// <summary>The generator gives every model a new random id: the one line two generations of one model differ by.</summary>
    private static string WithoutModelId(string code) => ModelId().Replace(code, "modelId: new Guid()");

    [GeneratedRegex("""modelId: new Guid\("[0-9a-f-]{36}"\)""")]
    private static partial Regex ModelId();

    /// <summary>File name → text of the provider's compiled model, without the assembly attribute that would make EF pick one model for both providers.</summary>
    private static Dictionary<string, string> Generate(string provider)
    {
        var connection = provider == "Sqlite"
            ? DatabaseConnection.Parse("runway.db", Path.GetTempPath())
            : DatabaseConnection.Parse("Host=localhost;Database=runway", Path.GetTempPath());
        var options = new DbContextOptionsBuilder<RunwayDb>();
        connection.Configure(options);
        // Build from the configurations, not from the checked-in model.
        ((IDbContextOptionsBuilderInfrastructure)options).AddOrUpdateExtension(options.Options.FindExtension<CoreOptionsExtension>()!.WithModel(null!));
        using var db = new RunwayDb(options.Options);

        var services = new ServiceCollection();
        services.AddEntityFrameworkDesignTimeServices();
        services.AddDbContextDesignTimeServices(db);
        // The providers' design-time services are EF's "internal" API (EF1001); dotnet ef uses the same ones.
#pragma warning disable EF1001
        IDesignTimeServices designTime = provider == "Sqlite" ? new SqliteDesignTimeServices() : new NpgsqlDesignTimeServices();
#pragma warning restore EF1001
        designTime.ConfigureDesignTimeServices(services);
        using var design = services.BuildServiceProvider();

        var output = Directory.CreateTempSubdirectory("runway-compiled-model-");
        try
        {
            design.GetRequiredService<ICompiledModelScaffolder>().ScaffoldModel(db.GetService<IDesignTimeModel>().Model, output.FullName,
                new CompiledModelCodeGenerationOptions
                {
                    ContextType = typeof(RunwayDb),
                    ModelNamespace = $"Runway.Data.CompiledModels.{provider}",
                    Language = "C#",
                    UseNullableReferenceTypes = true,
                    Suffix = ".g",
                });
            return output.GetFiles("*.cs")
                .Where(f => f.Name != "RunwayDbAssemblyAttributes.g.cs")
                .ToDictionary(f => f.Name, f => File.ReadAllText(f.FullName), StringComparer.Ordinal);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}
