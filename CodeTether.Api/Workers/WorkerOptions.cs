using System.ComponentModel.DataAnnotations;

namespace CodeTether.Api.Workers;

public sealed class WorkerOptions
{
    public const string Section = "Workers";

    /// <summary>How often a <c>heartbeat</c> event goes down an idle worker stream (also refreshes the worker's liveness).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan StreamHeartbeat { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A worker not heard from for this long is shown offline.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan OfflineAfter { get; set; } = TimeSpan.FromSeconds(45);
}
