using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Runway.Data;

/// <summary>
/// An EF Core compiled query, compiled once per model: a compiled query runs only against the model it was
/// compiled for, and one process may hold a SQLite and a PostgreSQL model (the tests do). Compiled, a query
/// skips EF Core's parameter extraction and its query cache's key comparison on each call: about a third of
/// the CPU of a <c>GET /api/v1/runs/{id}</c>, whose three reads are such queries (issue 10).
/// </summary>
internal sealed class CompiledQuery<TQuery>(Func<TQuery> compile)
    where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> byModel = [];

    public TQuery For(DbContext db) => byModel.GetValue(db.Model, _ => compile());
}
