using Sentry.Tests.Infrastructure;

namespace Sentry.Tests;

/// <summary>Run-wide resources shared by all fixtures: one prepared data directory.</summary>
[SetUpFixture]
public sealed class TestRun
{
    static readonly Lazy<TestData> LazyData = new(TestData.Create);

    /// <summary>The shared read-only test data (see <see cref="TestData"/> for its layout).</summary>
    public static TestData Data => LazyData.Value;

    [OneTimeTearDown]
    public void DeleteData()
    {
        if (LazyData.IsValueCreated)
            LazyData.Value.Dispose();
    }
}
