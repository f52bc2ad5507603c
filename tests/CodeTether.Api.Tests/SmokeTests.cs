namespace CodeTether.Api.Tests;
public class SmokeTests { [Fact] public void One_Plus_One_IsTwo() => Assert.Equal(2, 1 + 1); }
