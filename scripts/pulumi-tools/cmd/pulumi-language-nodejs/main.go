// Command pulumi-language-nodejs is a small Node.js language host for the
// Pulumi engine, used because the upstream language host module is not served
// by the Go module proxy this project can reach.
//
// It implements the parts of the LanguageRuntime service that `pulumi
// preview`, `pulumi up`, `pulumi destroy`, `pulumi refresh` and `pulumi about`
// use: the program is run by `node @pulumi/pulumi/cmd/run`, resolved from the
// project's own node_modules, exactly as the upstream host does it.
//
// Supported Pulumi.yaml runtime options: typescript (default true), tsconfig,
// nodeargs. Not supported: bun, policy packs, plugins written in Node.js,
// code generation (pulumi convert/import --generate-code, package gen-sdk).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "3.274.1"

// Exit code with which @pulumi/pulumi/cmd/run signals that it has already
// shown the user an actionable error message.
const exitAfterUserActionableMessage = 32

type languageHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
	engineAddress string
	tracing       string
}

func main() {
	tracing := flag.String("tracing", "", "emit tracing to a Zipkin-compatible endpoint")
	flag.String("root", "", "project root directory (ignored)")
	flag.Parse()

	host := &languageHost{tracing: *tracing}
	if args := flag.Args(); len(args) > 0 {
		host.engineAddress = args[0]
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cancelChannel := make(chan bool)
	go func() {
		<-ctx.Done()
		close(cancelChannel)
	}()
	if host.engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, host.engineAddress, 5*time.Minute, cancel); err != nil {
			fatalf("could not start health check against the engine: %v", err)
		}
	}

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancelChannel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Options: rpcutil.OpenTracingServerInterceptorOptions(nil),
	})
	if err != nil {
		fatalf("could not start the language host RPC server: %v", err)
	}

	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)

	if err := <-handle.Done; err != nil {
		fatalf("language host RPC server stopped: %v", err)
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: "+format+"\n", args...)
	os.Exit(1)
}

func (h *languageHost) Handshake(
	_ context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if req.GetEngineAddress() != "" {
		h.engineAddress = req.GetEngineAddress()
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *languageHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

// programDir returns the directory of the program described by info, falling
// back to the older request fields.
func programDir(info *pulumirpc.ProgramInfo, pwd string) string {
	if info != nil && info.GetProgramDirectory() != "" {
		return info.GetProgramDirectory()
	}
	if pwd != "" {
		return pwd
	}
	wd, _ := os.Getwd()
	return wd
}

type nodeOptions struct {
	typescript bool
	tsconfig   string
	nodeargs   []string
}

func parseOptions(info *pulumirpc.ProgramInfo) (nodeOptions, error) {
	opts := nodeOptions{typescript: true}
	if info == nil || info.GetOptions() == nil {
		return opts, nil
	}
	m := info.GetOptions().AsMap()
	if v, ok := m["typescript"]; ok {
		b, isBool := v.(bool)
		if !isBool {
			return opts, errors.New("typescript option must be a boolean")
		}
		opts.typescript = b
	}
	if v, ok := m["tsconfig"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("tsconfig option must be a string")
		}
		opts.tsconfig = s
	}
	if v, ok := m["nodeargs"]; ok {
		s, isString := v.(string)
		if !isString {
			return opts, errors.New("nodeargs option must be a string")
		}
		opts.nodeargs = strings.Fields(s)
	}
	return opts, nil
}

// resolveModule asks node where a module is, starting from dir, the way
// require() in the program would find it.
func resolveModule(ctx context.Context, nodeBin, dir, module string) (string, error) {
	script := fmt.Sprintf("console.log(require.resolve(%q, {paths: [process.cwd()]}))", module)
	cmd := exec.CommandContext(ctx, nodeBin, "-e", script)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := err.Error()
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) && len(exitErr.Stderr) > 0 {
			msg = strings.TrimSpace(string(exitErr.Stderr))
		}
		return "", fmt.Errorf("could not find %s from %s (run `npm install` there first): %s", module, dir, msg)
	}
	return strings.TrimSpace(string(out)), nil
}

func (h *languageHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on the $PATH: " + err.Error()}, nil
	}
	dir := programDir(req.GetInfo(), req.GetPwd())
	runPath := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runPath == "" {
		runPath, err = resolveModule(ctx, nodeBin, dir, "@pulumi/pulumi/cmd/run")
		if err != nil {
			return &pulumirpc.RunResponse{Error: err.Error()}, nil
		}
	}
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	addArg := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	addArg("monitor", req.GetMonitorAddress())
	addArg("engine", h.engineAddress)
	addArg("organization", req.GetOrganization())
	addArg("project", req.GetProject())
	addArg("stack", req.GetStack())
	addArg("pwd", dir)
	if info := req.GetInfo(); info != nil {
		addArg("root-directory", info.GetRootDirectory())
	}
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	addArg("query-mode", strconv.FormatBool(req.GetQueryMode()))
	addArg("parallel", strconv.Itoa(int(req.GetParallel())))
	addArg("tracing", h.tracing)
	entryPoint := "."
	if info := req.GetInfo(); info != nil && info.GetEntryPoint() != "" {
		entryPoint = info.GetEntryPoint()
	} else if req.GetProgram() != "" {
		entryPoint = req.GetProgram()
	}
	args = append(args, entryPoint)
	args = append(args, req.GetArgs()...)

	// Config keys are handed over in the "<namespace>:config:<name>" form,
	// which every @pulumi/pulumi version understands.
	cfg := make(map[string]string, len(req.GetConfig()))
	for k, v := range req.GetConfig() {
		key, err := config.ParseKey(k)
		if err != nil {
			return &pulumirpc.RunResponse{Error: fmt.Sprintf("bad config key %q: %v", k, err)}, nil
		}
		cfg[key.Namespace()+":config:"+key.Name()] = v
	}
	cfgJSON, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, err
	}

	env := append(os.Environ(),
		"PULUMI_CONFIG="+string(cfgJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON),
	)
	if opts.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if opts.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+opts.tsconfig)
	}

	cmd := exec.Command(nodeBin, args...)
	cmd.Dir = dir
	cmd.Env = env
	// Node may switch its stdio to non-blocking mode; never hand it our own
	// file descriptors, copy through pipes instead.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	err = cmd.Run()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	if err == nil {
		return &pulumirpc.RunResponse{}, nil
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		if exitErr.ExitCode() == exitAfterUserActionableMessage {
			return &pulumirpc.RunResponse{Bail: true}, nil
		}
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	}
	return &pulumirpc.RunResponse{
		Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
	}, nil
}

// findNodeModules returns the nearest node_modules directory at or above dir.
func findNodeModules(dir string) string {
	for d := dir; ; {
		candidate := filepath.Join(d, "node_modules")
		if st, err := os.Stat(candidate); err == nil && st.IsDir() {
			return candidate
		}
		parent := filepath.Dir(d)
		if parent == d {
			return ""
		}
		d = parent
	}
}

type packageJSON struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Pulumi  *struct {
		Resource bool   `json:"resource"`
		Name     string `json:"name"`
		Version  string `json:"version"`
		Server   string `json:"server"`
	} `json:"pulumi"`
	Dependencies    map[string]string `json:"dependencies"`
	DevDependencies map[string]string `json:"devDependencies"`
}

func readPackageJSON(path string) (*packageJSON, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var p packageJSON
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &p, nil
}

// installedPackages lists the package.json files of the packages installed in
// the top level of node_modules (scoped packages included).
func installedPackages(nodeModules string) []*packageJSON {
	var result []*packageJSON
	if nodeModules == "" {
		return nil
	}
	entries, err := os.ReadDir(nodeModules)
	if err != nil {
		return nil
	}
	var dirs []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if strings.HasPrefix(name, "@") {
			scoped, err := os.ReadDir(filepath.Join(nodeModules, name))
			if err != nil {
				continue
			}
			for _, s := range scoped {
				dirs = append(dirs, filepath.Join(nodeModules, name, s.Name()))
			}
			continue
		}
		dirs = append(dirs, filepath.Join(nodeModules, name))
	}
	sort.Strings(dirs)
	for _, d := range dirs {
		if p, err := readPackageJSON(filepath.Join(d, "package.json")); err == nil {
			result = append(result, p)
		}
	}
	return result
}

// resourcePlugins returns the resource plugins that the installed Pulumi
// packages declare in their package.json "pulumi" section.
func resourcePlugins(dir string) []*pulumirpc.PackageDependency {
	var deps []*pulumirpc.PackageDependency
	seen := map[string]bool{}
	for _, p := range installedPackages(findNodeModules(dir)) {
		if p.Pulumi == nil || !p.Pulumi.Resource {
			continue
		}
		name := p.Pulumi.Name
		if name == "" {
			name = strings.TrimPrefix(p.Name, "@pulumi/")
		}
		ver := p.Pulumi.Version
		if ver == "" {
			ver = p.Version
		}
		if ver != "" && !strings.HasPrefix(ver, "v") {
			ver = "v" + ver
		}
		if seen[name+"@"+ver] {
			continue
		}
		seen[name+"@"+ver] = true
		deps = append(deps, &pulumirpc.PackageDependency{
			Kind: "resource", Name: name, Version: ver, Server: p.Pulumi.Server,
		})
	}
	return deps
}

func (h *languageHost) GetRequiredPackages(
	_ context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	return &pulumirpc.GetRequiredPackagesResponse{Packages: resourcePlugins(programDir(req.GetInfo(), ""))}, nil
}

func (h *languageHost) GetRequiredPlugins(
	_ context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	var plugins []*pulumirpc.PluginDependency
	for _, p := range resourcePlugins(programDir(req.GetInfo(), req.GetPwd())) {
		plugins = append(plugins, &pulumirpc.PluginDependency{
			Kind: p.Kind, Name: p.Name, Version: p.Version, Server: p.Server,
		})
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

func (h *languageHost) GetProgramDependencies(
	_ context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	dir := programDir(req.GetInfo(), req.GetPwd())
	nodeModules := findNodeModules(dir)
	installed := map[string]string{}
	for _, p := range installedPackages(nodeModules) {
		installed[p.Name] = p.Version
	}
	var deps []*pulumirpc.DependencyInfo
	if req.GetTransitiveDependencies() {
		for name, ver := range installed {
			deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: ver})
		}
	} else if nodeModules != "" {
		root, err := readPackageJSON(filepath.Join(filepath.Dir(nodeModules), "package.json"))
		if err == nil {
			for _, m := range []map[string]string{root.Dependencies, root.DevDependencies} {
				for name := range m {
					if ver, ok := installed[name]; ok {
						deps = append(deps, &pulumirpc.DependencyInfo{Name: name, Version: ver})
					}
				}
			}
		}
	}
	sort.Slice(deps, func(i, j int) bool { return deps[i].Name < deps[j].Name })
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}

func (h *languageHost) About(ctx context.Context, _ *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("could not find node on the $PATH: %w", err)
	}
	out, err := exec.CommandContext(ctx, nodeBin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("could not run %s --version: %w", nodeBin, err)
	}
	return &pulumirpc.AboutResponse{
		Executable: nodeBin,
		Version:    strings.TrimPrefix(strings.TrimSpace(string(out)), "v"),
	}, nil
}

func (h *languageHost) RuntimeOptionsPrompts(
	context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}

// InstallDependencies runs `npm install` in the program directory (used by
// `pulumi install` and `pulumi new`).
func (h *languageHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest, server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	dir := programDir(req.GetInfo(), req.GetDirectory())
	fmt.Fprintf(stdout, "Installing dependencies...\n\n")
	cmd := exec.CommandContext(server.Context(), "npm", "install")
	cmd.Dir = dir
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("npm install in %s failed: %w", dir, err)
	}
	fmt.Fprintf(stdout, "Finished installing dependencies\n\n")
	return closer.Close()
}
