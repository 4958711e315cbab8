using System.Runtime.InteropServices;

namespace StillControl.Hosting;

/// <summary>
/// The control loop on a thread of its own, raised above the rest of the process where the system allows it (nice -10 on
/// Linux needs root or CAP_SYS_NICE), so forwarders draining a backlog, a database on the same board or the garbage
/// collector's helpers do not make a control step late.
/// </summary>
public static partial class ControlThread
{
    private const int NicePriority = -10;

    /// <summary>Runs <paramref name="step"/> each time <paramref name="wait"/> says so, until it returns false.</summary>
    public static Task Run(Func<CancellationToken, ValueTask<bool>> wait, Action step, CancellationToken cancellationToken, Action<bool>? elevated = null)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            elevated?.Invoke(Elevate());
            try
            {
                while (true)
                {
                    var next = wait(cancellationToken);
                    if (!(next.IsCompletedSuccessfully ? next.Result : next.AsTask().GetAwaiter().GetResult())) break;
                    step();
                }
                done.TrySetResult();
            }
            catch (Exception ex)
            {
                done.TrySetException(ex);
            }
        })
        {
            IsBackground = true,
            Name = "stillcontrol-loop",
            Priority = ThreadPriority.Highest,
        };
        thread.Start();
        return done.Task;
    }

    private static bool Elevate()
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return SetPriority(0, GetThreadId(), NicePriority) == 0;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static partial int SetPriority(int which, int who, int priority);

    [LibraryImport("libc", EntryPoint = "gettid")]
    private static partial int GetThreadId();
}
