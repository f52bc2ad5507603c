namespace CodeTether.Shared; public static class Placeholder {}
