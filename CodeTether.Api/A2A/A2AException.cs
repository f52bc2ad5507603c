using System.Text.Json.Nodes;
using CodeTether.Shared.A2A;

namespace CodeTether.Api.A2A;

/// <summary>An A2A error with its spec code; JSON-RPC and REST both turn it into their error shape.</summary>
public sealed class A2AException(int code, string message, JsonNode? data = null) : Exception(message)
{
    public int Code { get; } = code;
    public JsonNode? ErrorData { get; } = data;

    public JsonRpcError ToError() => new() { Code = Code, Message = Message, Data = ErrorData };

    public static A2AException InvalidParams(string why) => new(A2AErrorCodes.InvalidParams, "Invalid parameters: " + why);
    public static A2AException TaskNotFound(string id) => new(A2AErrorCodes.TaskNotFound, $"Task not found: {id}");
    public static A2AException NotCancelable(string id, string state) => new(A2AErrorCodes.TaskNotCancelable, $"Task cannot be canceled: {id} is {state}");
    public static A2AException Unsupported(string why) => new(A2AErrorCodes.UnsupportedOperation, "This operation is not supported: " + why);
    public static A2AException Forbidden(string method) => new(A2AErrorCodes.Forbidden, $"Forbidden: your role does not allow {method}");
}
