using Npgsql;
using Runway.Runs;

namespace Runway.Data;

/// <summary>
/// PostgreSQL only: wakes this node's scheduler when any node submits a run, frees a slot or records a cancel
/// request (each sends <see cref="NotifySql"/> in its own transaction, delivered at commit), so nodes need not
/// poll tightly; the scheduler's poll stays, slower (<see cref="NodeSettings.PollInterval"/>), as a safety net
/// for a notification lost with a broken connection.
/// </summary>
public sealed class RunNotifications(DatabaseConnection database, RunScheduler scheduler, ILogger<RunNotifications> logger) : BackgroundService
{
    public const string Channel = "runway_queue";
    public const string NotifySql = "SELECT pg_notify('" + Channel + "', '')";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Keepalives: a connection broken without a FIN would otherwise leave WaitAsync waiting forever.
                await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString) { KeepAlive = 30 }.ConnectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, _) => scheduler.Wake();
                await using (var listen = new NpgsqlCommand("LISTEN " + Channel, connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                // Whatever was notified while this connection was down is found now.
                scheduler.Wake();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Listening for run notifications failed; polling until it is back");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }
}
