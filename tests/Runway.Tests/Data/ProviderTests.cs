namespace Runway.Tests.Data;

// Each contract suite once per provider.
public sealed class RunStoreSqliteTests() : RunStoreContract(TestDatabase.Sqlite);

public sealed class RunStorePostgresTests() : RunStoreContract(TestDatabase.Postgres);

public sealed class RunTransitionSqliteTests() : RunTransitionContract(TestDatabase.Sqlite);

public sealed class RunTransitionPostgresTests() : RunTransitionContract(TestDatabase.Postgres);

public sealed class RunwayDbSqliteTests() : RunwayDbContract(TestDatabase.Sqlite);

public sealed class RunwayDbPostgresTests() : RunwayDbContract(TestDatabase.Postgres);
