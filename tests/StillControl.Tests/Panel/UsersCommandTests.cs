using StillControl.Cli;
using StillControl.Web;

namespace StillControl.Panel;

public sealed class UsersCommandTests
{
    private static (int Exit, string Output, string Error) Run(string input, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int exit;
        try
        {
            exit = UsersCommand.Run(args, new StringReader(input), output, error);
        }
        catch (BadInputException ex)
        {
            error.WriteLine(ex.Message);
            exit = 2;
        }
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Add_list_and_remove_keep_a_0600_file_of_hashes_that_sign_in()
    {
        using var files = new TestFiles();
        var path = files.PathOf("etc/users.json");
        var (exit, output, _) = Run("correct horse battery\n", "add", "李师傅", "--role", "operator", "--password-stdin", "--users", path);
        Assert.Equal(0, exit);
        Assert.Contains("added 李师傅 (operator)", output);
        Assert.Equal(0, Run("another-password\n", "add", "zhang", "--role", "supervisor", "--password-stdin", "--users", path).Exit);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var text = File.ReadAllText(path);
        Assert.DoesNotContain("correct horse battery", text);

        var store = new UserStore(path);
        Assert.Equal(("李师傅", Role.Operator), store.Verify("李师傅", "correct horse battery"));
        Assert.Null(store.Verify("李师傅", "correct horse batterY"));

        var list = Run("", "list", "--users", path);
        Assert.Equal(0, list.Exit);
        Assert.Contains("zhang", list.Output);
        Assert.Contains("supervisor", list.Output);

        // A new password replaces the old one.
        Assert.Contains("replaced", Run("a-newer-password\n", "add", "李师傅", "--role", "viewer", "--password-stdin", "--users", path).Output);
        Assert.Null(store.Verify("李师傅", "correct horse battery"));
        Assert.Equal(("李师傅", Role.Viewer), store.Verify("李师傅", "a-newer-password"));

        Assert.Equal(0, Run("", "remove", "李师傅", "--users", path).Exit);
        Assert.Null(store.Verify("李师傅", "a-newer-password"));
        var missing = Run("", "remove", "李师傅", "--users", path);
        Assert.Equal(2, missing.Exit);
        Assert.Contains("no user '李师傅'", missing.Error);
    }

    [Theory]
    [InlineData("short\n", new[] { "add", "li", "--role", "operator", "--password-stdin" }, "at least 8")]
    [InlineData("long-enough-password\n", new[] { "add", "li", "--role", "boss", "--password-stdin" }, "one of viewer, operator, supervisor")]
    [InlineData("long-enough-password\n", new[] { "add", "li", "--role", "operator" }, "--password-stdin is needed")]
    [InlineData("", new[] { "add", "li", "--role", "operator", "--password-stdin" }, "standard input is empty")]
    [InlineData("long-enough-password\n", new[] { "add", "li/../x", "--role", "operator", "--password-stdin" }, "1 to 32 letters")]
    [InlineData("", new[] { "rename", "li" }, "accepted: add, list, remove")]
    public void Bad_input_is_exit_2_naming_what_is_accepted(string input, string[] args, string expected)
    {
        using var files = new TestFiles();
        var (exit, _, error) = Run(input, [.. args, "--users", files.PathOf("users.json")]);
        Assert.Equal(2, exit);
        Assert.Contains(expected, error);
        Assert.False(File.Exists(files.PathOf("users.json")) && new UserStore(files.PathOf("users.json")).Users().Count > 0);
    }

    [Fact]
    public void A_damaged_users_file_is_named_and_lets_nobody_in()
    {
        using var files = new TestFiles();
        var path = files.Write("users.json", "{ \"users\": [ { \"name\": \"li\" ");
        var (exit, _, error) = Run("", "list", "--users", path);
        Assert.Equal(2, exit);
        Assert.Contains($"users file {path} is not valid JSON", error);
        Assert.Null(new UserStore(path).Verify("li", "anything-at-all"));
    }

    [Fact]
    public void Accept_language_picks_chinese_or_english()
    {
        Assert.Equal("zh-CN", WebFoundation.FromAcceptLanguage("zh-CN,zh;q=0.9,en;q=0.8"));
        Assert.Equal("zh-CN", WebFoundation.FromAcceptLanguage("zh-TW"));
        Assert.Equal("en", WebFoundation.FromAcceptLanguage("en-GB,en;q=0.9,zh;q=0.5"));
        Assert.Equal("zh-CN", WebFoundation.FromAcceptLanguage("fr, en;q=0.4, zh;q=0.6"));
        Assert.Equal("en", WebFoundation.FromAcceptLanguage("fr"));
        Assert.Equal("en", WebFoundation.FromAcceptLanguage(""));
    }
}
