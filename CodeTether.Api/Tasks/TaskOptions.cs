using System.ComponentModel.DataAnnotations;

namespace CodeTether.Api.Tasks;

public sealed class TaskOptions
{
    public const string Section = "Tasks";

    /// <summary>How long a claim holds without a heartbeat from the worker.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Runs a task may get before a lost lease fails it.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How often expired leases and silent workers are looked for.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan ReaperInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>An offer goes to one idle worker first; after this window every eligible worker gets it.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan OfferWindow { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Claimable tasks older than this are offered again (a safety net for lost offers).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ReofferAfter { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 1_000_000)]
    public int MaxPromptLength { get; set; } = 200_000;

    [Range(1, 10_000_000)]
    public int MaxResultLength { get; set; } = 1_000_000;
}
