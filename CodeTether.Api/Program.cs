using CodeTether.Api.Hosting;

return await Cli.RunAsync(args);
