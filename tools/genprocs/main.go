// Command genprocs writes a rendered-event XML file (one <Event> per line,
// as Get-WinEvent ... ToXml() gives) of Sysmon process creations: N
// processes, none ending, each the child of an earlier one, so that a
// replay fills procbeat's process table with N live processes with deep
// ancestry. It measures the memory and disk cost of the table (issue 12):
//
//	go run ./tools/genprocs -n 100000 -o /tmp/procs.xml
//	/usr/bin/time -v procbeat replay --resume -E procbeat.tracker.max_processes=100000 /tmp/procs.xml >/dev/null
//
// Every value is synthetic; the field sizes are those of ordinary Sysmon
// events (paths, command lines, hashes, GUIDs).
package main

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"time"
)

func main() {
	n := flag.Int("n", 100000, "processes")
	hosts := flag.Int("hosts", 1, "hosts the processes are spread over")
	out := flag.String("o", "", "output file (default stdout)")
	flag.Parse()
	w := os.Stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := write(bw, *n, max(1, *hosts)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := bw.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var images = []string{
	`C:\Windows\System32\cmd.exe`, `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
	`C:\Program Files\Google\Chrome\Application\chrome.exe`, `C:\Windows\System32\svchost.exe`,
	`C:\Windows\System32\conhost.exe`, `C:\Windows\System32\rundll32.exe`,
}

func guid(i int) string {
	return fmt.Sprintf("{8c5a2f71-%04x-65e7-%04x-%012x}", i>>16&0xffff, i&0xffff, i)
}

func write(w *bufio.Writer, n, hosts int) error {
	t0 := time.Date(2024, 3, 5, 14, 0, 0, 0, time.UTC)
	for i := range n {
		host := i % hosts
		// Parent: an earlier process of the same host, a quarter of the
		// way back, so chains are deep and fan-out is moderate.
		parent := i / 4 / hosts * hosts
		parent += host
		if parent >= i {
			parent = -1
		}
		at := t0.Add(time.Duration(i) * 10 * time.Millisecond)
		img := images[i%len(images)]
		pimg := images[max(parent, 0)%len(images)]
		pguid := "{00000000-0000-0000-0000-000000000000}"
		ppid := 4
		if parent >= 0 {
			pguid, ppid = guid(parent), 1000+parent
		}
		_, err := fmt.Fprintf(w, `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon" Guid="{5770385F-C22A-43E0-BF4C-06F5698FFBD9}"/><EventID>1</EventID><Version>5</Version><Level>4</Level><Task>1</Task><Opcode>0</Opcode><Keywords>0x8000000000000000</Keywords><TimeCreated SystemTime="%s"/><EventRecordID>%d</EventRecordID><Correlation/><Execution ProcessID="2840" ThreadID="3512"/><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WKS-%03d.corp.example.com</Computer><Security UserID="S-1-5-18"/></System><EventData><Data Name="RuleName">-</Data><Data Name="UtcTime">%s</Data><Data Name="ProcessGuid">%s</Data><Data Name="ProcessId">%d</Data><Data Name="Image">%s</Data><Data Name="FileVersion">10.0.19041.746 (WinBuild.160101.0800)</Data><Data Name="Description">Windows Command Processor</Data><Data Name="Product">Microsoft® Windows® Operating System</Data><Data Name="Company">Microsoft Corporation</Data><Data Name="OriginalFileName">Cmd.Exe</Data><Data Name="CommandLine">"%s" /c "echo run %d &gt; C:\Users\alice\AppData\Local\Temp\out-%d.txt"</Data><Data Name="CurrentDirectory">C:\Users\alice\</Data><Data Name="User">CORP\alice</Data><Data Name="LogonGuid">{8c5a2f71-0a4e-65e7-f1a3-050000000000}</Data><Data Name="LogonId">0x5a3f1</Data><Data Name="TerminalSessionId">1</Data><Data Name="IntegrityLevel">Medium</Data><Data Name="Hashes">SHA256=%064x,MD5=%032x,IMPHASH=%032x</Data><Data Name="ParentProcessGuid">%s</Data><Data Name="ParentProcessId">%d</Data><Data Name="ParentImage">%s</Data><Data Name="ParentCommandLine">"%s"</Data><Data Name="ParentUser">CORP\alice</Data></EventData></Event>`+"\n",
			at.Format("2006-01-02T15:04:05.000000000Z"), i+1, host, at.Format("2006-01-02 15:04:05.000"), guid(i), 1000+i, img, img, i, i,
			i, i, i%4096, pguid, ppid, pimg, pimg)
		if err != nil {
			return err
		}
	}
	return nil
}
