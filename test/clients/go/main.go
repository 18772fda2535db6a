// A driver for the real Nacos Go client (github.com/nacos-group/nacos-sdk-go/v2, the client
// Higress uses) against mcpgate's Nacos gRPC port, run by test/nacos-grpc-clients.test.ts.
// It does what Higress' Nacos MCP provider does: registers an ephemeral instance, subscribes to
// its service, reads an MCP server's version, spec and tool configs and listens to them, and
// prints each thing it sees as one JSON line on stdout. It exits when stdin closes.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"sync"

	"github.com/nacos-group/nacos-sdk-go/v2/clients"
	"github.com/nacos-group/nacos-sdk-go/v2/common/constant"
	"github.com/nacos-group/nacos-sdk-go/v2/model"
	"github.com/nacos-group/nacos-sdk-go/v2/vo"
)

var mu sync.Mutex

func emit(event map[string]interface{}) {
	mu.Lock()
	defer mu.Unlock()
	b, _ := json.Marshal(event)
	fmt.Println(string(b))
}

func fail(what string, err error) {
	emit(map[string]interface{}{"event": "error", "what": what, "error": err.Error()})
	os.Exit(1)
}

func main() {
	if len(os.Args) < 6 {
		fmt.Fprintln(os.Stderr, "usage: nacos-go-driver HOST HTTP_PORT GRPC_PORT SERVICE MCP_ID [VERSION]")
		os.Exit(2)
	}
	host := os.Args[1]
	httpPort, _ := strconv.ParseUint(os.Args[2], 10, 64)
	grpcPort, _ := strconv.ParseUint(os.Args[3], 10, 64)
	service := os.Args[4]
	mcpID := os.Args[5]
	tmp := os.Getenv("NACOS_DRIVER_DIR")
	if tmp == "" {
		tmp = os.TempDir()
	}
	servers := []constant.ServerConfig{*constant.NewServerConfig(host, httpPort, constant.WithGrpcPort(grpcPort))}
	cc := constant.NewClientConfig(
		constant.WithNamespaceId(""),
		constant.WithTimeoutMs(5000),
		constant.WithNotLoadCacheAtStart(true),
		constant.WithUpdateCacheWhenEmpty(true),
		constant.WithLogDir(tmp+"/log"),
		constant.WithCacheDir(tmp+"/cache"),
		constant.WithLogLevel("warn"),
		constant.WithUsername(os.Getenv("NACOS_USERNAME")),
		constant.WithPassword(os.Getenv("NACOS_PASSWORD")),
	)
	param := vo.NacosClientParam{ClientConfig: cc, ServerConfigs: servers}
	naming, err := clients.NewNamingClient(param)
	if err != nil {
		fail("naming client", err)
	}
	config, err := clients.NewConfigClient(param)
	if err != nil {
		fail("config client", err)
	}

	ok, err := naming.RegisterInstance(vo.RegisterInstanceParam{
		Ip: "10.1.0.1", Port: 8080, ServiceName: service, Weight: 1, Enable: true, Healthy: true, Ephemeral: true,
		Metadata: map[string]string{"client": "go"},
	})
	if err != nil || !ok {
		fail("register", fmt.Errorf("ok=%v err=%v", ok, err))
	}
	emit(map[string]interface{}{"event": "registered"})

	err = naming.Subscribe(&vo.SubscribeParam{
		ServiceName: service,
		SubscribeCallback: func(instances []model.Instance, err error) {
			ips := []string{}
			for _, i := range instances {
				ips = append(ips, fmt.Sprintf("%s:%d", i.Ip, i.Port))
			}
			sort.Strings(ips)
			emit(map[string]interface{}{"event": "instances", "hosts": ips})
		},
	})
	if err != nil {
		fail("subscribe", err)
	}

	// As Higress: list the MCP servers by a config search, then read each one's versions config,
	// which names the published version; its spec and tools configs follow.
	page, err := config.SearchConfig(vo.SearchConfigParam{Search: "blur", DataId: "*mcp-versions.json", Group: "mcp-server-versions", PageNo: 1, PageSize: 50})
	if err != nil {
		fail("search configs", err)
	}
	found := []string{}
	for _, item := range page.PageItems {
		found = append(found, item.DataId)
	}
	emit(map[string]interface{}{"event": "search", "dataIds": found})
	versionsID := mcpID + "-mcp-versions.json"
	content, err := config.GetConfig(vo.ConfigParam{DataId: versionsID, Group: "mcp-server-versions"})
	if err != nil {
		fail("get versions config", err)
	}
	emit(map[string]interface{}{"event": "config", "dataId": versionsID, "content": content})
	var info struct {
		LatestPublishedVersion string `json:"latestPublishedVersion"`
	}
	_ = json.Unmarshal([]byte(content), &info)
	listen := func(dataID, group string) {
		c, err := config.GetConfig(vo.ConfigParam{DataId: dataID, Group: group})
		if err != nil {
			fail("get config "+dataID, err)
		}
		emit(map[string]interface{}{"event": "config", "dataId": dataID, "content": c})
		err = config.ListenConfig(vo.ConfigParam{DataId: dataID, Group: group, OnChange: func(namespace, group, dataId, data string) {
			emit(map[string]interface{}{"event": "config-change", "dataId": dataId, "content": data})
		}})
		if err != nil {
			fail("listen "+dataID, err)
		}
	}
	listen(versionsID, "mcp-server-versions")
	listen(fmt.Sprintf("%s-%s-mcp-server.json", mcpID, info.LatestPublishedVersion), "mcp-server")
	listen(fmt.Sprintf("%s-%s-mcp-tools.json", mcpID, info.LatestPublishedVersion), "mcp-tools")
	emit(map[string]interface{}{"event": "ready"})

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
	}
	naming.CloseClient()
	config.CloseClient()
	emit(map[string]interface{}{"event": "closed"})
}
