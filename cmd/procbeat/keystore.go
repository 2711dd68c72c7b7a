package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	libconfig "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/keystore"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/procbeat/procbeat/config"
)

// openKeystore opens the keystore raw's configuration names, or returns nil
// when there is none yet (then ${KEY} resolves from the environment only).
// With --strict.perms, as in Beats, a keystore others can read or write is
// refused.
func (g *globals) openKeystore(raw *libconfig.C) (keystore.Keystore, error) {
	path, err := config.KeystoreFile(raw)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	ks, err := keystore.NewFileKeystoreWithStrictPerms(path, g.strictPerms)
	if err != nil {
		return nil, fmt.Errorf("keystore %s: %w", path, err)
	}
	return ks, nil
}

// keystoreFor opens (without creating) the configured keystore for the
// keystore subcommands, which must work before the rest of the
// configuration is valid.
func (g *globals) keystoreFor(cmd *cobra.Command) (string, *keystore.FileKeystore, error) {
	raw, err := g.raw(cmd)
	if err != nil {
		return "", nil, err
	}
	path, err := config.KeystoreFile(raw)
	if err != nil {
		return "", nil, err
	}
	ks, err := keystore.NewFileKeystore(path)
	if err != nil {
		return "", nil, fmt.Errorf("keystore %s: %w", path, err)
	}
	return path, ks.(*keystore.FileKeystore), nil
}

// existingKeystore opens the configured keystore, which must exist, with
// its keys, for add, list and remove.
func (g *globals) existingKeystore(cmd *cobra.Command) (string, *keystore.FileKeystore, []string, error) {
	path, ks, err := g.keystoreFor(cmd)
	if err != nil {
		return "", nil, nil, err
	}
	if !ks.IsPersisted() {
		return "", nil, nil, fmt.Errorf("keystore %s does not exist: run procbeat keystore create first", path)
	}
	keys, err := ks.List()
	if err != nil {
		return "", nil, nil, fmt.Errorf("keystore %s: %w", path, err)
	}
	return path, ks, keys, nil
}

func newKeystoreCmd(g *globals) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "keystore",
		Short: "Manage secrets that ${KEY} in the configuration resolves to",
		Long: "The keystore (keystore.path, by default procbeat.keystore in path.data) holds secrets\n" +
			"such as output.elasticsearch.password: ${ES_PWD}. Keys resolve before environment variables.",
	})
	var force bool
	create := &cobra.Command{
		Use:   "create",
		Short: "Create an empty keystore",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			path, ks, err := g.keystoreFor(cmd)
			if err != nil {
				return err
			}
			if ks.IsPersisted() && !force {
				return fmt.Errorf("keystore %s exists already (--force replaces it with an empty one)", path)
			}
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				return err
			}
			if err := ks.Create(true); err != nil {
				return fmt.Errorf("keystore %s: %w", path, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Created procbeat keystore %s\n", path)
			return err
		},
	}
	create.Flags().BoolVar(&force, "force", false, "replace an existing keystore")

	var fromStdin, overwrite bool
	add := &cobra.Command{
		Use:   "add KEY",
		Short: "Add a secret (read from a prompt, or standard input with --stdin)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key := args[0]
			if key == "" || strings.ContainsAny(key, "${} \t\n") {
				return fmt.Errorf("key %q: want a name such as ES_PASSWORD", key)
			}
			path, ks, keys, err := g.existingKeystore(cmd)
			if err != nil {
				return err
			}
			if slices.Contains(keys, key) && !overwrite {
				return fmt.Errorf("key %s exists already (--force replaces it)", key)
			}
			if !fromStdin {
				fmt.Fprintf(cmd.ErrOrStderr(), "Enter value for %s: ", key)
			}
			value, err := readSecret(cmd.InOrStdin(), fromStdin)
			if err != nil {
				return fmt.Errorf("reading the value of %s: %w", key, err)
			}
			if err := ks.Store(key, value); err != nil {
				return err
			}
			if err := ks.Save(); err != nil {
				return fmt.Errorf("keystore %s: %w", path, err)
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "Added %s to the keystore\n", key)
			return err
		},
	}
	add.Flags().BoolVar(&fromStdin, "stdin", false, "read the value from standard input (whole input, trailing newline removed)")
	add.Flags().BoolVar(&overwrite, "force", false, "replace an existing key")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the keys (never the values)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, _, keys, err := g.existingKeystore(cmd)
			if err != nil {
				return err
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintln(cmd.OutOrStdout(), k)
			}
			return nil
		},
	}
	remove := &cobra.Command{
		Use:   "remove KEY...",
		Short: "Remove keys",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, ks, keys, err := g.existingKeystore(cmd)
			if err != nil {
				return err
			}
			for _, k := range args {
				if !slices.Contains(keys, k) {
					return fmt.Errorf("key %s is not in the keystore", k)
				}
				if err := ks.Delete(k); err != nil {
					return err
				}
			}
			return ks.Save()
		},
	}
	cmd.AddCommand(create, add, list, remove)
	return cmd
}

// maxSecretBytes bounds a value read with --stdin (64 KiB, room for a PEM
// bundle).
const maxSecretBytes = 64 << 10

// readSecret reads a value: the whole input with --stdin (one trailing
// newline dropped), else one line, not echoed when typed at a terminal.
func readSecret(in io.Reader, all bool) ([]byte, error) {
	if f, ok := in.(*os.File); ok && !all && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(os.Stderr)
		if err == nil && len(b) == 0 {
			err = errors.New("empty value")
		}
		return b, err
	}
	if all {
		// A secret is a password, a key or a certificate: a few KiB. The
		// cap keeps a mistaken pipe (a log, a disk image) from filling
		// memory here and then the keystore every start loads.
		// (+3: room for the trailing newline dropped below, and one byte
		// to tell a value over the cap.)
		b, err := io.ReadAll(io.LimitReader(in, maxSecretBytes+3))
		if err != nil {
			return nil, err
		}
		b = []byte(strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r"))
		if len(b) > maxSecretBytes {
			return nil, fmt.Errorf("standard input holds more than %d KiB: a keystore value is a secret such as a password or a key, not a file", maxSecretBytes/1024)
		}
		if len(b) == 0 {
			return nil, errors.New("empty value")
		}
		return b, nil
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return nil, errors.New("empty value")
	}
	return []byte(line), nil
}
