// A client on the official Go MCP SDK (github.com/modelcontextprotocol/go-sdk), driven by
// test/gateway-sdk-clients.test.ts against an upstream MCP server through mcpgate: it lists and
// calls tools, reads a resource, gets a prompt, receives progress and answers a sampling request.
// Usage: go-mcp URL. Prints one JSON object of what it saw; exits 1 on a failure.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func text(r *mcp.CallToolResult) string {
	if r == nil || len(r.Content) == 0 {
		return ""
	}
	if t, ok := r.Content[0].(*mcp.TextContent); ok {
		return t.Text
	}
	return ""
}

func fail(what string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", what, err)
	os.Exit(1)
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go-mcp URL")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var progress atomic.Int32
	client := mcp.NewClient(&mcp.Implementation{Name: "go-mcp-agent", Version: "1.0.0"}, &mcp.ClientOptions{
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Role: "assistant", Model: "go-agent-model", Content: &mcp.TextContent{Text: "4"}}, nil
		},
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { progress.Add(1) },
	})
	session, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: os.Args[1], MaxRetries: -1}, nil)
	if err != nil {
		fail("connect", err)
	}
	defer session.Close()
	out := map[string]any{}
	tools, err := session.ListTools(ctx, nil)
	if err != nil {
		fail("tools/list", err)
	}
	names := []string{}
	for _, t := range tools.Tools {
		names = append(names, t.Name)
	}
	out["tools"] = names
	echo, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "from go"}})
	if err != nil {
		fail("tools/call echo", err)
	}
	out["echo"] = text(echo)
	read, err := session.ReadResource(ctx, &mcp.ReadResourceParams{URI: "file:///readme.txt"})
	if err != nil {
		fail("resources/read", err)
	}
	if len(read.Contents) > 0 {
		out["resource"] = read.Contents[0].Text
	}
	prompt, err := session.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"who": "go"}})
	if err != nil {
		fail("prompts/get", err)
	}
	if len(prompt.Messages) > 0 {
		if t, ok := prompt.Messages[0].Content.(*mcp.TextContent); ok {
			out["prompt"] = t.Text
		}
	}
	params := &mcp.CallToolParams{Name: "sleep", Arguments: map[string]any{"ms": 50}}
	params.SetProgressToken("go-progress")
	slept, err := session.CallTool(ctx, params)
	if err != nil {
		fail("tools/call sleep", err)
	}
	out["sleep"] = text(slept)
	// The SDK runs notification handlers on their own goroutines: wait for them a little.
	for i := 0; i < 100 && progress.Load() == 0; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	out["progress"] = progress.Load()
	sampled, err := session.CallTool(ctx, &mcp.CallToolParams{Name: "ask", Arguments: map[string]any{"what": "sampling"}})
	if err != nil {
		fail("tools/call ask", err)
	}
	out["sampling"] = text(sampled)
	_ = json.NewEncoder(os.Stdout).Encode(out)
}
