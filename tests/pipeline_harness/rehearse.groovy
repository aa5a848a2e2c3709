/*
 * The pipeline rehearsal harness: runs one Jenkinsfile as Jenkins runs it, on
 * Groovy 2.4 (the version Jenkins embeds), with Jenkins' steps bound here.
 *
 *   groovy rehearse.groovy SPEC.json
 *
 * The spec (written by tests/pipeline_harness/driver.py) names the
 * Jenkinsfile, the build (variables, parameters, causes, scripted input
 * answers, credentials, the repository and commit) and the folders to work in.
 * The console log goes to stdout, as Jenkins would show it; what happened goes
 * to the spec's events file, one JSON object a line. Exit 0: the build ran to
 * an end, whatever its result; exit 3: the Jenkinsfile used something the
 * harness does not know (a step, a parameter, a directive), which must fail
 * the test rather than pass as a build result.
 *
 * Real work is real: `sh` runs bash in a workspace folder, `checkout scm`
 * clones with git, `stash` and `archiveArtifacts` copy files, `lock` and
 * `milestone` coordinate through files shared by concurrent builds. What
 * cannot happen here (a person at the input page, hours passing) is scripted.
 */

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import java.nio.channels.FileChannel
import java.nio.channels.FileLock
import java.nio.file.Files
import java.nio.file.StandardCopyOption
import java.nio.file.StandardOpenOption
import java.util.regex.Pattern
import org.codehaus.groovy.control.CompilerConfiguration

/** A misuse the test must see: never caught by catchError or a Jenkinsfile's catch (Exception). */
class HarnessError extends Error {
    HarnessError(String message) { super(message) }
}

/** hudson.AbortException: fails the build with just its message. */
class AbortException extends RuntimeException {
    AbortException(String message) { super(message) }
}

/** Jenkins' FlowInterruptedException: an abort, a timeout, a rejected input, a superseded build. */
class FlowInterruptedException extends RuntimeException {
    final String result
    final Map timeout   // the timeout frame that fired, while it unwinds to its step

    FlowInterruptedException(String result, String cause, Map timeout = null) {
        super(cause)
        this.result = result
        this.timeout = timeout
    }

    String getResult() { result }
}

/** What `string(...)`, `aws(...)`, `logRotator(...)`, `cron(...)` return: a described thing. */
class Described {
    String kind
    Map args
    String toString() { "${kind}(${args})" }
}

/** The Jenkinsfile's base class: steps, and `env`, `params`, `currentBuild`, `scm`. */
abstract class JenkinsfileScript extends Script {
    private Rehearsal build

    void attach(Rehearsal rehearsal) { build = rehearsal }

    Object pipeline(Closure body) { build.pipeline(body) }

    Object methodMissing(String name, Object args) {
        return build.steps.call(name, args as Object[])
    }

    Object getProperty(String name) {
        switch (name) {
            case 'env': return build.envGlobal
            case 'params': return build.params
            case 'currentBuild': return build.currentBuild
            case 'scm': return build.scm
        }
        if (getBinding().hasVariable(name)) {   // not `binding`: that would come back here
            return getBinding().getVariable(name)
        }
        String value = build.visibleEnv()[name]
        return value != null ? value : super.getProperty(name)
    }
}

/** `env`: reads the variables in effect where it is read; assignment sets them for the rest of the build. */
class EnvGlobal {
    Rehearsal build

    Object getProperty(String name) {
        return name == 'environment' ? build.visibleEnv() : build.visibleEnv()[name]
    }

    void setProperty(String name, Object value) {
        build.globalEnv[name] = value?.toString()
    }

    Object getAt(String name) { getProperty(name) }

    void putAt(String name, Object value) { setProperty(name, value) }

    Map getEnvironment() { build.visibleEnv() }
}

class CurrentBuild {
    Rehearsal build

    String getResult() { build.result }

    void setResult(Object value) { build.worsen(value.toString()) }

    String getCurrentResult() { build.result ?: 'SUCCESS' }

    String getDescription() { build.description }

    void setDescription(Object value) {
        build.description = value?.toString()
        build.emit('description', [text: build.description])
    }

    String getDisplayName() { build.displayName }

    void setDisplayName(Object value) { build.displayName = value?.toString() }

    int getNumber() { build.spec.number as int }

    String getId() { build.spec.number.toString() }

    String getAbsoluteUrl() { build.spec.env.BUILD_URL }

    String getProjectName() { build.spec.job.tokenize('/').last() }

    String getFullProjectName() { build.spec.job }

    boolean resultIsBetterOrEqualTo(String other) { Rehearsal.rank(currentResult) <= Rehearsal.rank(other) }

    boolean resultIsWorseOrEqualTo(String other) { Rehearsal.rank(currentResult) >= Rehearsal.rank(other) }

    /** As Jenkins gives them: maps with `_class`, `shortDescription` and the cause's own fields. */
    List getBuildCauses(String className = null) {
        List causes = build.spec.causes.collect { Map c -> new LinkedHashMap(c) }
        return className == null ? causes : causes.findAll { it._class == className }
    }

    List getBuildCauses(Class type) { getBuildCauses(type.name) }
}

/** The declarative model: what `pipeline { }` and each `stage { }` declare. */
class Section {
    Rehearsal build
    String where

    Object methodMissing(String name, Object args) {
        throw build.harness("'${name}' is not allowed in ${where} (or not emulated)")
    }

    Object propertyMissing(String name) {
        throw build.harness("'${name}' is not allowed in ${where} (or not emulated)")
    }

    /** Evaluates a directive's closure against this section, then lets go of it. */
    void read(Closure body) {
        body.resolveStrategy = Closure.DELEGATE_ONLY
        body.delegate = this
        try {
            body.call()
        } finally {
            body.delegate = null
            body.resolveStrategy = Closure.OWNER_FIRST
        }
    }
}

class Agent extends Section {
    String kind = 'label'
    String label

    void label(Object l) { label = l.toString() }

    void node(Closure body) { read(body) }

    void customWorkspace(Object ignored) {
        throw build.harness('customWorkspace is not emulated: every node gets a fresh workspace')
    }
}

class Options extends Section {
    List<String> names = []
    Map timeout
    String ansiColor
    boolean skipDefaultCheckout
    boolean skipStagesAfterUnstable

    Described logRotator(Map a) { new Described(kind: 'logRotator', args: a) }

    void buildDiscarder(Object d) { names << 'buildDiscarder' }

    void disableConcurrentBuilds(Map a = [:]) { names << 'disableConcurrentBuilds' }

    void timestamps() { names << 'timestamps' }

    void ansiColor(Object map) { names << 'ansiColor'; ansiColor = map.toString() }

    void timeout(Map a) { names << 'timeout'; timeout = a }

    void skipDefaultCheckout(boolean on = true) { names << 'skipDefaultCheckout'; skipDefaultCheckout = on }

    void skipStagesAfterUnstable() { names << 'skipStagesAfterUnstable'; skipStagesAfterUnstable = true }

    void preserveStashes(Map a = [:]) { names << 'preserveStashes' }

    void quietPeriod(Object s) { names << 'quietPeriod' }

    void durabilityHint(Object h) { names << 'durabilityHint' }

    void disableResume() { names << 'disableResume' }
}

class Triggers extends Section {
    List<Map> list = []

    void cron(Object spec) { list << [kind: 'cron', spec: spec.toString()] }

    void pollSCM(Object spec) { list << [kind: 'pollSCM', spec: spec.toString()] }

    void upstream(Map a) { list << [kind: 'upstream', spec: a.upstreamProjects?.toString()] }
}

class Parameters extends Section {
    List<Map> list = []

    void string(Map a) { list << [kind: 'string'] + a }

    void text(Map a) { list << [kind: 'text'] + a }

    void password(Map a) { list << [kind: 'password'] + a }

    void booleanParam(Map a) { list << [kind: 'booleanParam'] + a }

    void choice(Map a) { list << [kind: 'choice'] + a }
}

/** `when { }`: a list of conditions, all of which must hold. */
class When extends Section {
    List<Closure> conditions = []
    boolean beforeAgent

    void beforeAgent(boolean on) { beforeAgent = on }

    void branch(Object pattern) {
        String p = pattern instanceof Map ? pattern.pattern : pattern.toString()
        conditions << { -> AntFiles.regex(p).matcher(build.visibleEnv().BRANCH_NAME ?: '').matches() }
    }

    void changeRequest(Map a = [:]) {
        Map fields = [id: 'CHANGE_ID', target: 'CHANGE_TARGET', branch: 'CHANGE_BRANCH', author: 'CHANGE_AUTHOR',
                      title: 'CHANGE_TITLE', url: 'CHANGE_URL', fork: 'CHANGE_FORK']
        a.keySet().each { k -> if (!fields.containsKey(k)) { throw build.harness("changeRequest: '${k}' is not emulated") } }
        conditions << { ->
            Map env = build.visibleEnv()
            env.CHANGE_ID != null && a.every { k, v -> AntFiles.regex(v.toString()).matcher(env[fields[k]] ?: '').matches() }
        }
    }

    void expression(Closure test) { conditions << { -> test.call() as boolean } }

    void environment(Map a) { conditions << { -> build.visibleEnv()[a.name.toString()] == a.value?.toString() } }

    void triggeredBy(Object cause) {
        String c = cause instanceof Map ? cause.cause : cause.toString()
        conditions << { -> build.spec.causes.any { it._class.tokenize('.$').last().startsWith(c) } }
    }

    void not(Closure body) { When inner = nested(body); conditions << { -> !inner.holds() } }

    void allOf(Closure body) { When inner = nested(body); conditions << { -> inner.holds() } }

    void anyOf(Closure body) { When inner = nested(body); conditions << { -> inner.conditions.any { it.call() } } }

    private When nested(Closure body) {
        When inner = new When(build: build, where: where)
        inner.read(body)
        return inner
    }

    boolean holds() { conditions.every { it.call() } }
}

class Post extends Section {
    static final List<String> ORDER = ['always', 'changed', 'fixed', 'regression', 'aborted', 'failure', 'success',
                                       'unstable', 'unsuccessful', 'notBuilt', 'cleanup']
    static final Set<String> EMULATED = ['always', 'aborted', 'failure', 'success', 'unstable', 'unsuccessful',
                                         'notBuilt', 'cleanup'] as Set
    Map<String, Closure> blocks = [:]

    Object methodMissing(String name, Object args) {
        Object[] a = args as Object[]
        if (!EMULATED.contains(name) || a.length != 1 || !(a[0] instanceof Closure)) {
            throw build.harness("post condition '${name}' is not emulated")
        }
        blocks[name] = a[0] as Closure
        return null
    }

    static boolean meets(String condition, String status) {
        switch (condition) {
            case 'always': case 'cleanup': return true
            case 'success': return status == 'SUCCESS'
            case 'failure': return status == 'FAILURE'
            case 'unstable': return status == 'UNSTABLE'
            case 'aborted': return status == 'ABORTED'
            case 'notBuilt': return status == 'NOT_BUILT'
            case 'unsuccessful': return status != 'SUCCESS'
        }
        return false
    }
}

class Stage extends Section {
    String name
    Agent agent
    When when
    Options options
    Closure environment
    Closure steps
    Post post

    String getNone() { 'none' }

    String getAny() { 'any' }

    void agent(String kind) { agent = new Agent(build: build, where: 'agent', kind: kind) }

    void agent(Closure body) { agent = new Agent(build: build, where: 'agent'); agent.read(body) }

    void when(Closure body) { when = new When(build: build, where: "when of stage '${name}'"); when.read(body) }

    void options(Closure body) { options = new Options(build: build, where: "options of stage '${name}'"); options.read(body) }

    void environment(Closure body) { environment = body }

    void steps(Closure body) { steps = body }

    void post(Closure body) { post = new Post(build: build, where: "post of stage '${name}'"); post.read(body) }
}

class Pipeline extends Stage {
    Triggers triggers
    Parameters parameters
    List<Stage> stages = []

    void triggers(Closure body) { triggers = new Triggers(build: build, where: 'triggers'); triggers.read(body) }

    void parameters(Closure body) { parameters = new Parameters(build: build, where: 'parameters'); parameters.read(body) }

    void stages(Closure body) { read(body) }

    void stage(Object stageName, Closure body) {
        Stage s = new Stage(build: build, where: "stage '${stageName}'", name: stageName.toString())
        s.read(body)
        if (s.steps == null) {
            throw build.harness("stage '${stageName}' has no steps (nested stages and parallel are not emulated)")
        }
        stages << s
    }
}

/** `environment { }`: assignments become variables; `credentials('id')` binds one. */
class Environment extends GroovyObjectSupport {
    Rehearsal build
    Map<String, String> vars = [:]
    List<String> credentialIds = []

    Object getProperty(String name) {
        if (vars.containsKey(name)) {
            return vars[name]
        }
        throw new MissingPropertyException(name, Environment)
    }

    void setProperty(String name, Object value) {
        if (value instanceof Described && value.kind == 'credentials') {
            vars.putAll(build.credentials.environmentBinding(name, value.args.id.toString()))
            credentialIds << value.args.id.toString()
            return
        }
        vars[name] = value?.toString()
    }

    Described credentials(Object id) { new Described(kind: 'credentials', args: [id: id]) }

    Map<String, String> variables() { vars }

    List<String> bound() { credentialIds }
}

/** The credentials the build may bind, with the fake values the spec gave each id. */
class Credentials {
    Rehearsal build
    static final Map<String, String> KINDS = [string: 'string', aws: 'aws', usernamePassword: 'usernamePassword',
                                              sshUserPrivateKey: 'sshUserPrivateKey',
                                              gitUsernamePassword: 'usernamePassword']

    Map stored(String id, String kind) {
        Map c = build.spec.credentials[id]
        if (c == null) {
            throw new AbortException("Could not find credentials entry with ID '${id}'")
        }
        if (kind != null && c.kind != kind) {
            throw new AbortException("Credentials '${id}' is of type '${c.kind}' where '${kind}' was expected")
        }
        return c
    }

    /** The variables one withCredentials binding sets. */
    Map<String, String> bind(Described binding) {
        Map a = binding.args
        String id = a.credentialsId?.toString()
        if (id == null) {
            throw build.harness("${binding.kind}(...) in withCredentials needs credentialsId")
        }
        Map c = stored(id, KINDS[binding.kind])
        Map v = c.values
        switch (binding.kind) {
            case 'string':
                return [(need(a, 'variable')): v.secret]
            case 'aws':
                return [(a.accessKeyVariable?.toString() ?: 'AWS_ACCESS_KEY_ID'): v.access_key,
                        (a.secretKeyVariable?.toString() ?: 'AWS_SECRET_ACCESS_KEY'): v.secret_key]
            case 'usernamePassword':
                return [(need(a, 'usernameVariable')): v.username, (need(a, 'passwordVariable')): v.password]
            case 'sshUserPrivateKey':
                File key = new File(build.requireWorkspace('sshUserPrivateKey').path + '@tmp',
                    "secretFiles/${UUID.randomUUID()}/key")
                key.parentFile.mkdirs()
                key.text = v.private_key
                Map out = [(need(a, 'keyFileVariable')): key.path]
                if (a.usernameVariable) { out[a.usernameVariable.toString()] = v.username }
                if (a.passphraseVariable) { out[a.passphraseVariable.toString()] = v.passphrase ?: '' }
                return out
            case 'gitUsernamePassword':
                // The git plugin's binding: the pair, and an askpass program that answers git with it.
                File askpass = new File(build.requireWorkspace('gitUsernamePassword').path + '@tmp',
                    "secretFiles/${UUID.randomUUID()}/askpass.sh")
                askpass.parentFile.mkdirs()
                askpass.text = '#!/bin/sh\ncase "$1" in\n  Username*) echo "$GIT_USERNAME" ;;\n' +
                    '  *) echo "$GIT_PASSWORD" ;;\nesac\n'
                askpass.setExecutable(true)
                return [GIT_USERNAME: v.username, GIT_PASSWORD: v.password, GIT_ASKPASS: askpass.path,
                        GIT_TERMINAL_PROMPT: 'false']
        }
        throw build.harness("withCredentials: binding '${binding.kind}' is not emulated")
    }

    /** declarative `X = credentials('id')`. */
    Map<String, String> environmentBinding(String name, String id) {
        Map c = stored(id, null)
        switch (c.kind) {
            case 'string': return [(name): c.values.secret]
            case 'usernamePassword':
                return [(name): "${c.values.username}:${c.values.password}".toString(),
                        ("${name}_USR".toString()): c.values.username, ("${name}_PSW".toString()): c.values.password]
        }
        throw build.harness("credentials('${id}') of kind ${c.kind} in environment is not emulated")
    }

    private String need(Map a, String key) {
        if (a[key] == null) {
            throw build.harness("withCredentials binding needs ${key}")
        }
        return a[key].toString()
    }

    /** Secret values of one credential, to mask in the log while bound. */
    List<String> secrets(String id) {
        Map c = build.spec.credentials[id]
        return c == null ? [] : c.values.findAll { k, v -> k != 'username' && v }.values()*.toString()
    }
}

/** Ant-style file patterns, as archiveArtifacts, stash and junit take them. */
class AntFiles {
    static final List<String> DEFAULT_EXCLUDES = ['**/.git', '**/.git/**', '**/.gitignore', '**/.gitattributes',
                                                  '**/.gitmodules', '**/*~', '**/.DS_Store', '**/.svn/**']

    static List<String> patterns(Object spec) {
        return spec == null ? [] : spec.toString().split(',')*.trim().findAll { it }
            .collect { it.endsWith('/') ? it + '**' : it }
    }

    static Pattern regex(String ant) {
        StringBuilder r = new StringBuilder()
        List<String> parts = ant.replace('\\', '/').split('/') as List
        parts.eachWithIndex { String part, int i ->
            boolean last = i == parts.size() - 1
            if (part == '**') {
                r.append(last ? '.*' : '(?:[^/]*/)*')
            } else {
                part.each { String ch ->
                    r.append(ch == '*' ? '[^/]*' : ch == '?' ? '[^/]' : Pattern.quote(ch))
                }
                if (!last) { r.append('/') }
            }
        }
        return Pattern.compile(r.toString())
    }

    /** Files (relative paths) under base matching includes and not excludes. */
    static List<String> select(File base, Object includes, Object excludes, boolean defaultExcludes = true) {
        List<Pattern> inc = patterns(includes).collect { regex(it) }
        List<Pattern> exc = (patterns(excludes) + (defaultExcludes ? DEFAULT_EXCLUDES : [])).collect { regex(it) }
        List<String> found = []
        if (!base.isDirectory()) {
            return found
        }
        base.eachFileRecurse(groovy.io.FileType.FILES) { File f ->
            String rel = base.toPath().relativize(f.toPath()).toString().replace('\\', '/')
            if (inc.any { it.matcher(rel).matches() } && !exc.any { it.matcher(rel).matches() }) {
                found << rel
            }
        }
        return found.sort()
    }

    static void copy(File from, File to) {
        to.parentFile.mkdirs()
        Files.copy(from.toPath(), to.toPath(), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.COPY_ATTRIBUTES)
    }
}

/** The steps. Each one lists its parameters; the first takes a lone positional argument. */
class Steps {
    Rehearsal build

    static final Map<String, List<String>> PARAMS = [
        sh: ['script', 'returnStatus', 'returnStdout', 'label', 'encoding'],
        echo: ['message'],
        error: ['message'],
        unstable: ['message'],
        node: ['label'],
        stage: ['name'],
        script: [],
        checkout: ['scm', 'changelog', 'poll'],
        withCredentials: ['bindings'],
        withEnv: ['overrides'],
        dir: ['path'],
        stash: ['name', 'includes', 'excludes', 'allowEmpty', 'useDefaultExcludes'],
        unstash: ['name'],
        archiveArtifacts: ['artifacts', 'excludes', 'allowEmptyArchive', 'fingerprint', 'onlyIfSuccessful',
                           'defaultExcludes', 'caseSensitive', 'followSymlinks'],
        junit: ['testResults', 'allowEmptyResults', 'skipPublishingChecks', 'keepLongStdio'],
        input: ['message', 'id', 'ok', 'submitter', 'submitterParameter', 'parameters'],
        lock: ['resource', 'inversePrecedence', 'skipIfLocked', 'quantity', 'variable'],
        milestone: ['ordinal', 'label', 'unsafe'],
        timeout: ['time', 'unit', 'activity'],
        catchError: ['buildResult', 'stageResult', 'message', 'catchInterruptions'],
        sleep: ['time', 'unit'],
        fileExists: ['file'],
        readFile: ['file', 'encoding'],
        writeFile: ['file', 'text', 'encoding'],
        readJSON: ['file', 'text', 'returnPojo'],
        cleanWs: ['deleteDirs', 'disableDeferredWipeout', 'notFailBuild', 'patterns', 'cleanWhenFailure'],
        deleteDir: [],
        pwd: ['tmp'],
        isUnix: [],
        ansiColor: ['colorMapName'],
        // Described things, not steps: arguments to withCredentials, input and options.
        string: ['credentialsId', 'variable', 'name', 'defaultValue', 'description', 'trim'],
        aws: ['credentialsId', 'accessKeyVariable', 'secretKeyVariable'],
        usernamePassword: ['credentialsId', 'usernameVariable', 'passwordVariable'],
        sshUserPrivateKey: ['credentialsId', 'keyFileVariable', 'usernameVariable', 'passphraseVariable'],
        gitUsernamePassword: ['credentialsId', 'gitToolName'],
        sshagent: ['credentials', 'ignoreMissing'],
        booleanParam: ['name', 'defaultValue', 'description'],
        choice: ['name', 'choices', 'description'],
        text: ['name', 'defaultValue', 'description'],
        password: ['name', 'defaultValue', 'description'],
    ]
    static final Set<String> DESCRIBED = ['string', 'aws', 'usernamePassword', 'sshUserPrivateKey',
                                          'gitUsernamePassword', 'booleanParam', 'choice', 'text', 'password'] as Set
    static final Set<String> BLOCKS = ['node', 'stage', 'script', 'withCredentials', 'withEnv', 'dir', 'lock',
                                       'timeout', 'catchError', 'ansiColor', 'sshagent'] as Set
    static final Set<String> NEED_WORKSPACE = ['sh', 'checkout', 'dir', 'stash', 'unstash', 'archiveArtifacts', 'junit',
                                               'fileExists', 'readFile', 'writeFile', 'cleanWs', 'deleteDir',
                                               'pwd', 'sshagent'] as Set

    Object call(String name, Object[] args) {
        if (name == 'parallel') {
            return parallelStep(args)
        }
        if (!PARAMS.containsKey(name)) {
            throw build.harness("unknown step '${name}': the harness does not emulate it " +
                '(add it to tests/pipeline_harness/rehearse.groovy with a test)')
        }
        Closure body = args.length > 0 && args[-1] instanceof Closure ? args[-1] as Closure : null
        List rest = body == null ? args as List : (args as List).subList(0, args.length - 1)
        Map a
        if (rest.isEmpty()) {
            a = [:]
        } else if (rest.size() == 1 && rest[0] instanceof Map && !(rest[0] as Map).containsKey('$class')) {
            a = rest[0] as Map   // a map with $class is a describable, the lone positional argument
        } else if (rest.size() == 1 && PARAMS[name]) {
            a = [(PARAMS[name][0]): rest[0]]
        } else {
            throw build.harness("${name}: give named parameters")
        }
        Set unknown = a.keySet().collect { it.toString() }.toSet() - PARAMS[name].toSet()
        if (unknown) {
            throw build.harness("${name} does not take parameter(s) ${unknown.sort()}")
        }
        if (DESCRIBED.contains(name)) {
            return new Described(kind: name, args: a)
        }
        if (BLOCKS.contains(name) != (body != null)) {
            throw build.harness(body == null ? "${name} needs a block" : "${name} takes no block")
        }
        build.checkInterrupted()
        if (!(name in ['stage', 'node'])) {   // they log their own opening lines
            build.log("[Pipeline] ${name}")
        }
        if (NEED_WORKSPACE.contains(name)) {
            build.requireWorkspace(name)
        }
        if (body == null) {
            return this."${name}Step"(a)
        }
        if (name in ['stage', 'node']) {
            return this."${name}Step"(a, body)
        }
        return this."${name}Step"(a, { ->
            build.log('[Pipeline] {')
            try {
                return body.call()
            } finally {
                build.log('[Pipeline] }')
                build.log("[Pipeline] // ${name}")
            }
        })
    }

    Object shStep(Map a) {
        String script = a.script?.toString()
        if (script == null) {
            throw build.harness('sh needs a script')
        }
        if (a.returnStatus && a.returnStdout) {
            throw new AbortException('You may not select both returnStdout and returnStatus')
        }
        Map result = build.shell(script, a.returnStdout as boolean)
        if (a.returnStatus) {
            return result.status
        }
        if (result.status != 0) {
            throw new AbortException("script returned exit code ${result.status}")
        }
        return a.returnStdout ? result.stdout : null
    }

    Object echoStep(Map a) { build.log(a.message?.toString()); null }

    Object errorStep(Map a) { throw new AbortException(a.message?.toString()) }

    Object unstableStep(Map a) {
        build.log("WARNING: ${a.message}")
        build.worsen('UNSTABLE')
        build.worsenStage('UNSTABLE')
        return null
    }

    Object scriptStep(Map a, Closure body) { body.call() }

    /** `parallel(branches)` or `parallel(a: { }, b: { }, failFast: true)`: a map of closures. */
    Object parallelStep(Object[] args) {
        if (args.length != 1 || !(args[0] instanceof Map)) {
            throw build.harness('parallel: give a map of branch names to closures')
        }
        Map<String, Closure> branches = [:]
        boolean failFast = false
        (args[0] as Map).each { k, v ->
            if (k == 'failFast') {
                failFast = v as boolean
            } else if (v instanceof Closure) {
                branches[k.toString()] = v as Closure
            } else {
                throw build.harness("parallel: branch '${k}' is not a closure")
            }
        }
        build.checkInterrupted()
        build.log('[Pipeline] parallel')
        return build.runParallel(branches, failFast)
    }

    Object nodeStep(Map a, Closure body) { build.onNode(a.label?.toString(), body) }

    Object stageStep(Map a, Closure body) { build.scriptedStage(a.name.toString(), body) }

    Object checkoutStep(Map a) {
        if (a.scm instanceof Map && (a.scm as Map)['$class'] == 'GitSCM') {
            return build.checkoutGit(a.scm as Map)
        }
        if (!a.scm.is(build.scm)) {
            throw build.harness("checkout: only `checkout scm` and `checkout([\$class: 'GitSCM', ...])` are emulated")
        }
        return build.checkout()
    }

    Object withCredentialsStep(Map a, Closure body) {
        List<Described> bindings = (a.bindings ?: []) as List
        Map<String, String> vars = [:]
        List<String> ids = []
        bindings.each { Described b ->
            vars.putAll(build.credentials.bind(b))
            ids << b.args.credentialsId.toString()
        }
        return build.withBound(vars, ids, body)
    }

    /**
     * The ssh-agent plugin's step: the keys must exist and be SSH keys; the build sees
     * SSH_AUTH_SOCK. No agent listens there: the harness's remotes are local folders.
     */
    Object sshagentStep(Map a, Closure body) {
        List<String> ids = ((a.credentials ?: []) as List)*.toString()
        List<String> found = []
        ids.each { String id ->
            if (build.spec.credentials[id] == null && a.ignoreMissing) {
                build.log("[ssh-agent] Could not find specified credentials ${id}; skipping")
                return
            }
            build.credentials.stored(id, 'sshUserPrivateKey')
            found << id
        }
        File sock = new File(build.ws.path + '@tmp', "ssh-agent-${UUID.randomUUID()}/agent.sock")
        sock.parentFile.mkdirs()
        build.log("[ssh-agent] Using credentials ${found.join(', ')}")
        return build.withBound([SSH_AUTH_SOCK: sock.path], found, body)
    }

    Object withEnvStep(Map a, Closure body) {
        Map<String, String> vars = [:]
        (a.overrides as List).each { Object kv ->
            String s = kv.toString()
            int eq = s.indexOf('=')
            if (eq < 0) {
                throw build.harness("withEnv: '${s}' is not NAME=value")
            }
            String key = s.substring(0, eq)
            String value = s.substring(eq + 1)
            if (key.contains('+')) {   // PATH+EXTRA=/bin prepends to PATH
                key = key.substring(0, key.indexOf('+'))
                String old = build.shellEnv()[key]
                value = old ? "${value}:${old}" : value
            }
            vars[key] = value
        }
        return build.withOverlay(vars, body)
    }

    Object ansiColorStep(Map a, Closure body) { build.withOverlay([TERM: a.colorMapName?.toString() ?: 'xterm'], body) }

    Object dirStep(Map a, Closure body) {
        File target = build.resolve(a.path.toString())
        target.mkdirs()
        return build.inDir(target, body)
    }

    Object stashStep(Map a) {
        String name = a.name.toString()
        List<String> files = AntFiles.select(build.cwd, a.includes ?: '**', a.excludes,
            a.useDefaultExcludes == null ? true : a.useDefaultExcludes as boolean)
        if (files.isEmpty() && !a.allowEmpty) {
            throw new AbortException("No files included in stash \u2018${name}\u2019")
        }
        File store = new File(build.spec.dirs.stashes, name)
        store.deleteDir()
        store.mkdirs()
        files.each { AntFiles.copy(new File(build.cwd, it), new File(store, it)) }
        build.log("Stashed ${files.size()} file(s)")
        build.emit('stash', [name: name, files: files])
        return null
    }

    Object unstashStep(Map a) {
        String name = a.name.toString()
        File store = new File(build.spec.dirs.stashes, name)
        if (!store.isDirectory()) {
            throw new AbortException("No such saved stash \u2018${name}\u2019")
        }
        List<String> files = AntFiles.select(store, '**', null, false)
        files.each { AntFiles.copy(new File(store, it), new File(build.cwd, it)) }
        build.emit('unstash', [name: name, files: files])
        return null
    }

    Object archiveArtifactsStep(Map a) {
        if (a.onlyIfSuccessful && build.result != null && build.result != 'SUCCESS') {
            build.log('Skipped archiving because build is not successful')
            return null
        }
        List<String> files = AntFiles.select(build.cwd, a.artifacts, a.excludes,
            a.defaultExcludes == null ? true : a.defaultExcludes as boolean)
        if (files.isEmpty()) {
            if (a.allowEmptyArchive) {
                build.log('No artifacts found that match the file pattern "' + a.artifacts + '". Configuration error?')
                return null
            }
            throw new AbortException('No artifacts found that match the file pattern "' + a.artifacts +
                '". Configuration error?')
        }
        build.log('Archiving artifacts')
        files.each { AntFiles.copy(new File(build.cwd, it), new File(build.spec.dirs.archive, it)) }
        build.emit('archive', [files: files])
        return null
    }

    Object junitStep(Map a) {
        List<String> files = AntFiles.select(build.cwd, a.testResults, null)
        if (files.isEmpty()) {
            if (a.allowEmptyResults) {
                build.log("None of the test reports contained any result")
                return null
            }
            throw new AbortException("No test report files were found. Configuration error?")
        }
        int tests = 0, failed = 0
        files.each { String rel ->
            def xml = new XmlSlurper().parse(new File(build.cwd, rel))
            def cases = xml.'**'.findAll { it.name() == 'testcase' }
            tests += cases.size()
            failed += cases.count { c -> c.children().any { it.name() in ['failure', 'error'] } } as int
        }
        build.log("Recording test results: ${tests} tests, ${failed} failed")
        build.emit('junit', [files: files, tests: tests, failed: failed])
        if (failed > 0) {
            build.worsen('UNSTABLE')
            build.worsenStage('UNSTABLE')
        }
        return null
    }

    Object inputStep(Map a) { build.input(a) }

    Object lockStep(Map a, Closure body) {
        if (a.quantity || a.variable) {
            throw build.harness('lock: only a named resource is emulated')
        }
        return build.locked(a.resource.toString(), a.skipIfLocked as boolean, body)
    }

    Object milestoneStep(Map a) { build.milestone(a.ordinal as Integer, a.label?.toString()); null }

    Object timeoutStep(Map a, Closure body) { build.withTimeout(a, body) }

    Object catchErrorStep(Map a, Closure body) { build.catchError(a, body) }

    Object sleepStep(Map a) {
        long ms = Rehearsal.millis(a.time as long, a.unit?.toString() ?: 'SECONDS')
        build.log("Sleeping for ${a.time} ${a.unit ?: 'SECONDS'}")
        build.waitUntil(System.currentTimeMillis() + ms) { false }
        return null
    }

    Object fileExistsStep(Map a) { build.resolve(a.file.toString()).exists() }

    Object readFileStep(Map a) {
        File f = build.resolve(a.file.toString())
        if (!f.isFile()) {
            throw new AbortException("${f}: no such file")   // Jenkins: java.nio.file.NoSuchFileException
        }
        return f.getText(a.encoding?.toString() ?: 'UTF-8')
    }

    Object writeFileStep(Map a) {
        File f = build.resolve(a.file.toString())
        f.parentFile.mkdirs()
        f.setText(a.text.toString(), a.encoding?.toString() ?: 'UTF-8')
        return null
    }

    Object readJSONStep(Map a) {
        if ((a.file == null) == (a.text == null)) {
            throw build.harness('readJSON: give exactly one of file and text')
        }
        if (a.file != null) {
            build.requireWorkspace('readJSON')
            File f = build.resolve(a.file.toString())
            if (!f.isFile()) {
                throw new AbortException("${a.file} does not exist.")
            }
            return new JsonSlurper().parse(f)
        }
        return new JsonSlurper().parseText(a.text.toString())
    }

    Object cleanWsStep(Map a) {
        build.ws.eachFile { it.isDirectory() ? it.deleteDir() : it.delete() }
        return null
    }

    Object deleteDirStep(Map a) { build.cwd.deleteDir(); null }

    Object pwdStep(Map a) { a.tmp ? build.ws.path + '@tmp' : build.cwd.path }

    Object isUnixStep(Map a) { true }
}

/**
 * Where one thread of the build is: its node and folder, the blocks around it (variables,
 * stages, timeouts, locks). A `parallel` branch starts with a copy of its parent's and runs
 * on a thread of its own, as Jenkins runs branches at once.
 */
class Frame {
    File ws
    File cwd
    String nodeName
    String branch   // the parallel branch, whose name prefixes its log lines
    List<Map<String, String>> overlays = []
    List<Map> stageStack = []
    List<Map> timeouts = []
    Set<String> locksHeld = [] as Set
    Map group   // the parallel step this branch belongs to: [failed: name] once one failed with failFast

    Frame copy() {
        return new Frame(ws: ws, cwd: cwd, nodeName: nodeName, branch: branch, overlays: new ArrayList(overlays),
            stageStack: new ArrayList(stageStack), timeouts: new ArrayList(timeouts),
            locksHeld: new HashSet(locksHeld), group: group)
    }
}

/** One build of one job. */
class Rehearsal {
    static final List<String> RESULTS = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED']

    Map spec
    String jenkinsfile
    PrintStream out
    Writer events
    Steps steps
    Credentials credentials
    EnvGlobal envGlobal
    CurrentBuild currentBuild
    Map params = [:]
    Object scm = new Described(kind: 'scm', args: [:])

    String result
    String description
    String displayName
    Map<String, String> globalEnv = Collections.synchronizedMap(new LinkedHashMap<String, String>())
    List<String> masks = new java.util.concurrent.CopyOnWriteArrayList<String>()
    List<Map> answers
    int seq, nodeCount, shCount, milestoneOrdinal
    Integer lastMilestone
    final ThreadLocal<Frame> frames = new ThreadLocal<Frame>()
    static final Map<String, java.util.concurrent.locks.ReentrantLock> RESOURCES =
        new java.util.concurrent.ConcurrentHashMap<String, java.util.concurrent.locks.ReentrantLock>()

    /** This thread's frame: the build's own, or its parallel branch's. */
    Frame frame() {
        Frame f = frames.get()
        if (f == null) {
            f = new Frame()
            frames.set(f)
        }
        return f
    }

    File getWs() { frame().ws }

    void setWs(File f) { frame().ws = f }

    File getCwd() { frame().cwd }

    void setCwd(File f) { frame().cwd = f }

    String getNodeName() { frame().nodeName }

    void setNodeName(String n) { frame().nodeName = n }

    List<Map<String, String>> getOverlays() { frame().overlays }

    List<Map> getStageStack() { frame().stageStack }

    List<Map> getTimeouts() { frame().timeouts }

    Set<String> getLocksHeld() { frame().locksHeld }

    synchronized int next(String counter) {
        switch (counter) {
            case 'seq': return ++seq
            case 'node': return ++nodeCount
            case 'sh': return ++shCount
        }
        throw new IllegalArgumentException(counter)
    }

    Rehearsal(Map spec) {
        this.spec = spec
        this.jenkinsfile = spec.jenkinsfile
        this.out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, 'UTF-8')
        this.events = new File(spec.events as String).newWriter('UTF-8')
        this.steps = new Steps(build: this)
        this.credentials = new Credentials(build: this)
        this.envGlobal = new EnvGlobal(build: this)
        this.currentBuild = new CurrentBuild(build: this)
        this.answers = new ArrayList(spec.inputs)
        globalEnv.putAll(spec.env)
    }

    // -- results and the record --------------------------------------------------------------
    static int rank(String result) { RESULTS.indexOf(result) }

    synchronized void worsen(String r) {
        if (rank(r) < 0) {
            throw harness("no such result '${r}'")
        }
        if (result == null || rank(r) > rank(result)) {
            result = r
        }
    }

    void worsenStage(String r) {
        if (stageStack) {
            Map s = stageStack[-1]
            if (rank(r) > rank(s.status)) { s.status = r }
        }
    }

    synchronized void emit(String type, Map fields) {
        Map e = [type: type, time: System.currentTimeMillis(), stage: stageStack ? stageStack[-1].name : null,
                 path: stageStack*.name] + fields
        events.write(JsonOutput.toJson(e) + '\n')
        events.flush()
    }

    synchronized void log(String line) {
        String shown = line ?: ''
        masks.each { String secret -> shown = shown.replace(secret, '****') }
        String branch = frame().branch
        out.println(branch ? shown.readLines().collect { "[${branch}] ${it}" }.join('\n') : shown)
    }

    /** The innermost line of the Jenkinsfile on the stack, as `file:line`. */
    String where(Throwable t = new Throwable()) {
        StackTraceElement e = t.stackTrace.find { it.fileName == 'WorkflowScript' && it.lineNumber > 0 }
        return e == null ? jenkinsfile : "${jenkinsfile}:${e.lineNumber}"
    }

    HarnessError harness(String message) {
        HarnessError e = new HarnessError("${where()}: ${message}")
        emit('harness_error', [message: e.message])
        return e
    }

    // -- environment -------------------------------------------------------------------------
    /** What the Jenkinsfile sees: Jenkins' variables, parameters, env.X, and the blocks around it. */
    Map<String, String> visibleEnv() {
        Map<String, String> m
        synchronized (globalEnv) {
            m = new LinkedHashMap(globalEnv)
        }
        List<Map> stages = stageStack
        if (stages) {
            m.STAGE_NAME = stages[-1].name
        }
        overlays.each { m.putAll(it) }
        return m
    }

    /** What `sh` gets: the agent's process environment under the build's. */
    Map<String, String> shellEnv() {
        Map<String, String> m = new LinkedHashMap(spec.agent_env)
        m.putAll(visibleEnv())
        return m.findAll { k, v -> v != null }
    }

    Object withOverlay(Map<String, String> vars, Closure body) {
        overlays << vars
        try {
            return body.call()
        } finally {
            overlays.remove(overlays.size() - 1)
        }
    }

    Object withBound(Map<String, String> vars, List<String> ids, Closure body) {
        List<String> secrets = ids.collectMany { credentials.secrets(it) }
        stageStack.each { it.credentials.addAll(ids) }
        emit('credentials', [ids: ids])
        masks.addAll(secrets)
        try {
            return withOverlay(vars + [('\u0000creds'): ids.join(',')], body)
        } finally {
            secrets.each { masks.remove(it) }
        }
    }

    List<String> boundIds() {
        return overlays.collectMany { it['\u0000creds']?.tokenize(',') ?: [] }.unique()
    }

    // -- agents and files --------------------------------------------------------------------
    File requireWorkspace(String step) {
        if (ws == null) {
            throw new AbortException('Required context class hudson.FilePath is missing\n' +
                "Perhaps you forgot to surround the ${step} step with a step that provides this, such as: node")
        }
        return ws
    }

    File resolve(String path) {
        File f = new File(path)
        return f.isAbsolute() ? f : new File(cwd, path)
    }

    Object inDir(File dir, Closure body) {
        File saved = cwd
        cwd = dir
        try {
            return body.call()
        } finally {
            cwd = saved
        }
    }

    Object onNode(String label, Closure body) {
        if (label != null && !(label in spec.agents)) {
            throw harness("no agent has the label '${label}' (agents: ${spec.agents}): Jenkins would wait forever")
        }
        int number = next('node')
        String name = "${label ?: spec.agents[0]}-${number}"
        File dir = new File(spec.dirs.workspaces as String, "${spec.job.replace('/', '_')}_${spec.number}_${number}")
        dir.deleteDir()   // a fresh workspace for every node block
        new File(dir.path + '@tmp').deleteDir()
        dir.mkdirs()
        log('[Pipeline] node')
        log("Running on ${name} in ${dir}")
        log('[Pipeline] {')
        stageStack.each { it.agent = true }
        emit('node', [label: label, name: name, workspace: dir.path])
        File savedWs = ws, savedCwd = cwd
        String savedName = nodeName
        ws = dir
        cwd = dir
        nodeName = name
        try {
            return withOverlay([WORKSPACE: dir.path, WORKSPACE_TMP: dir.path + '@tmp', NODE_NAME: name,
                                NODE_LABELS: "${label ?: ''} ${name}".trim(), EXECUTOR_NUMBER: '0'], body)
        } finally {
            ws = savedWs
            cwd = savedCwd
            nodeName = savedName
            log('[Pipeline] }')
            log('[Pipeline] // node')
        }
    }

    /** git as the Git plugin runs it: init, fetch the refspecs, check out the build's commit detached. */
    Map checkout() {
        Map scmSpec = spec.scm
        if (scmSpec == null) {
            throw harness('checkout scm: the build has no scm (give the scenario scm=Scm.at(repo, ref))')
        }
        log("Checking out Revision ${scmSpec.commit}")
        git(['init', '-q'])
        git(['config', 'remote.origin.url', scmSpec.url])
        scmSpec.refspecs.each { git(['config', '--add', 'remote.origin.fetch', it]) }
        git(['fetch', '--no-tags', '-q', 'origin'])
        git(['checkout', '-q', '-f', '--detach', scmSpec.commit])
        Map vars = [GIT_COMMIT: scmSpec.commit, GIT_URL: scmSpec.url, GIT_BRANCH: scmSpec.branch]
        emit('checkout', [commit: scmSpec.commit, workspace: ws.path])
        return vars.findAll { k, v -> v != null }
    }

    static final Set<String> GIT_SCM_KEYS = ['$class', 'branches', 'userRemoteConfigs', 'extensions'] as Set
    static final Set<String> GIT_EXTENSIONS = ['CleanBeforeCheckout', 'CleanCheckout'] as Set

    /**
     * `checkout([$class: 'GitSCM', ...])` as the Git plugin runs it: one remote, its refspec
     * (default: every branch), its credentials (which must exist), then the first branch spec
     * checked out detached: a commit, `refs/heads/B` or `*\/B` (both as origin/B).
     */
    Map checkoutGit(Map g) {
        Set unknown = g.keySet()*.toString().toSet() - GIT_SCM_KEYS
        if (unknown) {
            throw harness("checkout GitSCM does not take ${unknown.sort()}")
        }
        List remotes = (g.userRemoteConfigs ?: []) as List
        List branches = (g.branches ?: []) as List
        if (remotes.size() != 1 || branches.size() != 1) {
            throw harness('checkout GitSCM: give one userRemoteConfigs entry and one branch spec')
        }
        Map remote = remotes[0] as Map
        Set badKeys = remote.keySet()*.toString().toSet() - (['url', 'refspec', 'credentialsId', 'name'] as Set)
        if (badKeys || !remote.url) {
            throw harness("checkout GitSCM: a remote takes url, refspec, credentialsId and name (got ${remote.keySet()})")
        }
        ((g.extensions ?: []) as List).each { Object e ->
            String kind = (e as Map)['$class']?.toString()
            if (!GIT_EXTENSIONS.contains(kind)) {
                throw harness("checkout GitSCM: extension ${kind} is not emulated")
            }
        }
        if (remote.credentialsId) {
            credentials.stored(remote.credentialsId.toString(), null)
        }
        String url = remote.url.toString()
        String wanted = (branches[0] as Map).name.toString()
        String ref = wanted ==~ /[0-9a-f]{40}/ ? wanted
            : wanted.startsWith('refs/heads/') ? 'refs/remotes/origin/' + wanted.substring('refs/heads/'.length())
            : wanted.startsWith('*/') ? 'refs/remotes/origin/' + wanted.substring(2) : wanted
        log("Checking out ${wanted} from ${url}")
        git(['init', '-q'])
        git(['config', 'remote.origin.url', url])
        git(['config', '--add', 'remote.origin.fetch', (remote.refspec ?: '+refs/heads/*:refs/remotes/origin/*').toString()])
        git(['fetch', '--no-tags', '-q', 'origin'])
        git(['checkout', '-q', '-f', '--detach', ref])
        git(['clean', '-q', '-ffdx'])
        String commit = gitOutput(['rev-parse', 'HEAD']).trim()
        emit('checkout', [commit: commit, workspace: ws.path])
        Map vars = [GIT_COMMIT: commit, GIT_URL: url]
        if (ref.startsWith('refs/remotes/')) {
            vars.GIT_BRANCH = ref.substring('refs/remotes/'.length())
        }
        return vars
    }

    private String gitOutput(List<String> args) {
        Process p = new ProcessBuilder(['git'] + args).directory(ws).start()
        String text = p.inputStream.getText('UTF-8')
        if (p.waitFor() != 0) {
            throw new AbortException("git ${args.join(' ')} returned exit code ${p.exitValue()}")
        }
        return text
    }

    private void git(List<String> args) {
        Process p = new ProcessBuilder(['git'] + args).directory(ws).redirectErrorStream(true).start()
        String text = p.inputStream.getText('UTF-8')
        if (p.waitFor() != 0) {
            log(text)
            throw new AbortException("git ${args.join(' ')} returned exit code ${p.exitValue()}")
        }
    }

    /** `sh`: the script in a file beside the workspace, run by bash -e in the current folder. */
    Map shell(String script, boolean captureStdout) {
        File tmp = new File(ws.path + '@tmp', "durable-${next('sh')}")
        tmp.mkdirs()
        File file = new File(tmp, 'script.sh')
        file.setText(script, 'UTF-8')
        List<String> cmd = script.startsWith('#!') ? [file.path] : ['bash', '-e', file.path]
        file.setExecutable(true)
        script.trim().readLines().each { log('+ ' + it.trim()) }
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd)
        pb.environment().clear()
        pb.environment().putAll(shellEnv().findAll { k, v -> !k.startsWith('\u0000') })
        pb.redirectErrorStream(!captureStdout)
        Process p = pb.start()
        p.outputStream.close()
        StringBuilder stdout = new StringBuilder()
        Frame mine = frame()   // the pumps log as this branch
        List<Thread> pumps = [Thread.start {
            frames.set(mine)
            p.inputStream.eachLine('UTF-8') { captureStdout ? stdout.append(it).append('\n') : log(it) }
        }]
        if (captureStdout) {
            pumps << Thread.start {
                frames.set(mine)
                p.errorStream.eachLine('UTF-8') { log(it) }
            }
        }
        try {
            waitUntil(Long.MAX_VALUE) { !p.alive }
        } catch (FlowInterruptedException e) {
            p.descendants().each { it.destroy() }
            p.destroy()
            p.waitFor()
            pumps*.join()
            emit('sh', [script: script, status: null, cwd: relCwd(), node: nodeName, credentials: boundIds(),
                        interrupted: e.message])
            throw e
        }
        pumps*.join()
        int status = p.exitValue()
        emit('sh', [script: script, status: status, cwd: relCwd(), node: nodeName, credentials: boundIds(),
                    stdout: captureStdout ? stdout.toString() : null])
        return [status: status, stdout: stdout.toString()]
    }

    private String relCwd() { ws.toPath().relativize(cwd.toPath()).toString() ?: '.' }

    // -- time, interruption, coordination ----------------------------------------------------
    static long millis(long time, String unit) {
        Map<String, Long> per = [NANOSECONDS: 0L, MICROSECONDS: 0L, MILLISECONDS: 1L, SECONDS: 1000L,
                                 MINUTES: 60000L, HOURS: 3600000L, DAYS: 86400000L]
        if (!per.containsKey(unit)) {
            throw new IllegalArgumentException("no such unit ${unit}")
        }
        return time * per[unit]
    }

    File cancelMarker(int number) { new File(spec.dirs.job as String, "cancel-${number}") }

    /** Tells build `number` why it is cancelled: whole, never an empty marker its next check reads. */
    void cancel(int number, String why) {
        File marker = cancelMarker(number)
        File tmp = new File(marker.path + ".${spec.number}.tmp")
        tmp.setText(why, 'UTF-8')
        java.nio.file.Files.move(tmp.toPath(), marker.toPath(), java.nio.file.StandardCopyOption.ATOMIC_MOVE)
    }

    /** Aborts this build when another has superseded it (milestone) since the last check. */
    void checkInterrupted() {
        Map group = frame().group
        if (group?.failed) {
            throw new FlowInterruptedException('ABORTED', "Failed in branch ${group.failed}")
        }
        File marker = cancelMarker(spec.number as int)
        if (marker.exists()) {
            String why = marker.text
            marker.delete()
            throw new FlowInterruptedException('NOT_BUILT', why)
        }
    }

    /** Waits until done() holds or `until` passes; a timeout step or a cancellation interrupts it. */
    void waitUntil(long until, Closure<Boolean> done) {
        while (!done.call()) {
            long now = System.currentTimeMillis()
            Map fired = timeouts.min { it.deadline }
            if (fired != null && now >= fired.deadline) {
                throw new FlowInterruptedException('ABORTED', 'Timeout has been exceeded', fired)
            }
            if (now >= until) {
                return
            }
            checkInterrupted()
            Thread.sleep(20)
        }
    }

    Object withTimeout(Map a, Closure body) {
        long ms = millis(a.time as long, a.unit?.toString() ?: 'MINUTES')
        Map frame = [deadline: System.currentTimeMillis() + ms, label: "${a.time} ${a.unit ?: 'MINUTES'}"]
        timeouts << frame
        try {
            return body.call()
        } catch (FlowInterruptedException e) {
            if (e.timeout.is(frame)) {
                log('Timeout has been exceeded')
                emit('timeout', [after: frame.label])
                throw new FlowInterruptedException('ABORTED', 'Timeout has been exceeded')
            }
            throw e
        } finally {
            timeouts.remove(frame)
        }
    }

    Object catchError(Map a, Closure body) {
        String buildResult = a.containsKey('buildResult') ? (a.buildResult ?: 'SUCCESS').toString() : 'FAILURE'
        String stageResult = a.containsKey('stageResult') ? (a.stageResult ?: 'SUCCESS').toString() : 'SUCCESS'
        [buildResult, stageResult].each { if (rank(it) < 0) { throw harness("catchError: no such result '${it}'") } }
        try {
            body.call()
        } catch (FlowInterruptedException e) {
            if (a.catchInterruptions == false) {
                throw e
            }
            logCaught(a, e)
            worsen(e.result)
            worsenStage(e.result)
        } catch (Exception e) {
            logCaught(a, e)
            worsen(buildResult)
            worsenStage(stageResult)
        }
        return null
    }

    private void logCaught(Map a, Exception e) {
        if (a.message) {
            log("ERROR: ${a.message}")
        }
        log(describe(e))
        emit('caught', [error: describe(e), message: a.message?.toString()])
    }

    String describe(Throwable e) {
        if (e instanceof AbortException) {
            return "ERROR: ${e.message}"
        }
        if (e instanceof FlowInterruptedException) {
            return "${e.result == 'ABORTED' ? 'Aborted' : 'Cancelled'}: ${e.message}"
        }
        return "${e.class.name}: ${e.message} (${where(e)})"
    }

    Object locked(String resource, boolean skipIfLocked, Closure body) {
        if (locksHeld.contains(resource)) {
            throw harness("lock '${resource}' taken again inside itself: Jenkins would wait forever")
        }
        File dir = new File(spec.dirs.locks as String)
        dir.mkdirs()
        File file = new File(dir, URLEncoder.encode(resource, 'UTF-8') + '.lock')
        log("Trying to acquire lock on [Resource: ${resource}]")
        // Branches of this build contend here; other builds (other processes) on the file.
        java.util.concurrent.locks.ReentrantLock local = RESOURCES.computeIfAbsent(resource) {
            new java.util.concurrent.locks.ReentrantLock()
        }
        if (!local.tryLock()) {
            if (skipIfLocked) {
                log("[Resource: ${resource}] is locked, skipping execution...")
                return null
            }
            log("[Resource: ${resource}] is locked, waiting...")
            emit('lock_waiting', [resource: resource])
            waitUntil(Long.MAX_VALUE) { local.tryLock() }
        }
        FileChannel channel
        FileLock held
        try {
            channel = FileChannel.open(file.toPath(), StandardOpenOption.CREATE, StandardOpenOption.WRITE)
            held = channel.tryLock()
        } catch (Throwable e) {
            local.unlock()
            throw e
        }
        try {
            if (held == null) {
                if (skipIfLocked) {
                    log("[Resource: ${resource}] is locked, skipping execution...")
                    channel.close()
                    local.unlock()
                    return null
                }
                log("[Resource: ${resource}] is locked, waiting...")
                emit('lock_waiting', [resource: resource])
                waitUntil(Long.MAX_VALUE) { (held = channel.tryLock()) != null }
            }
        } catch (Throwable e) {
            channel.close()
            local.unlock()
            throw e
        }
        log("Lock acquired on [Resource: ${resource}]")
        emit('lock_acquired', [resource: resource])
        locksHeld << resource
        try {
            return body.call()
        } finally {
            locksHeld.remove(resource)
            held.release()
            channel.close()
            local.unlock()
            log("Lock released on resource [Resource: ${resource}]")
            emit('lock_released', [resource: resource])
        }
    }

    /** The job's milestones, shared by its concurrent builds: {build number: last ordinal passed}. */
    Object withMilestones(Closure<Map> change) {
        File file = new File(spec.dirs.job as String, 'milestones.json')
        FileChannel channel = FileChannel.open(new File(spec.dirs.job as String, 'milestones.lock').toPath(),
            StandardOpenOption.CREATE, StandardOpenOption.WRITE)
        FileLock lock = channel.lock()
        try {
            Map m = file.exists() ? new JsonSlurper().parse(file) as Map : [:]
            Object answer = change.call(m)
            file.text = JsonOutput.toJson(m)
            return answer
        } finally {
            lock.release()
            channel.close()
        }
    }

    void milestone(Integer ordinal, String label) {
        int o = ordinal == null ? milestoneOrdinal + 1 : ordinal
        if (o <= milestoneOrdinal && lastMilestone != null) {
            throw new AbortException("Invalid ordinal ${o}, as the previous one was ${milestoneOrdinal}")
        }
        milestoneOrdinal = o
        int me = spec.number as int
        String superseded = withMilestones { Map m ->
            Map.Entry newer = m.find { k, v -> (k as int) > me && v != null && (v as int) >= o }
            if (newer != null) {
                m.remove(me.toString())
                return "Superseded by #${newer.key}".toString()
            }
            m[me.toString()] = o
            m.findAll { k, v -> (k as int) < me && (v == null || (v as int) <= o) }.each { k, v ->
                cancel(k as int, "Superseded by #${me}")
            }
            return null
        }
        emit('milestone', [ordinal: o, label: label, passed: superseded == null])
        if (superseded != null) {
            throw new FlowInterruptedException('NOT_BUILT', superseded)
        }
        lastMilestone = o
        log("Trying to pass milestone ${o}")
    }

    /** `input`: the next scripted answer approves (by someone allowed), aborts, or lets a timeout fire. */
    Object input(Map a) {
        String message = a.message?.toString()
        List<String> submitters = (a.submitter?.toString() ?: '').split(',')*.trim().findAll { it }
        List params = (a.parameters ?: []) as List
        log(message)
        log("${a.ok ?: 'Proceed'} or Abort")
        emit('input_waiting', [message: message, submitter: submitters])
        while (true) {
            Map answer
            synchronized (answers) {
                if (answers.isEmpty()) {
                    throw harness("input '${message}' reached with no scripted answer left")
                }
                answer = answers.remove(0)
            }
            if (answer.message && !(message =~ answer.message)) {
                throw harness("input '${message}' does not match the scripted answer's /${answer.message}/")
            }
            if (answer.after) {
                waitUntil(Long.MAX_VALUE) { new File(answer.after as String).exists() }
            }
            if (answer.action == 'timeout') {
                Map fired = timeouts.min { it.deadline }
                if (fired == null) {
                    throw harness("input '${message}' left unanswered with no timeout around it: Jenkins would wait forever")
                }
                emit('input', [message: message, action: 'timeout'])
                throw new FlowInterruptedException('ABORTED', 'Timeout has been exceeded', fired)
            }
            String user = answer.by
            if (submitters && !submitters.any { it.equalsIgnoreCase(user) }) {
                log("${user} may not ${answer.action == 'abort' ? 'abort' : 'approve'}: submitter is ${submitters.join(',')}")
                emit('input', [message: message, action: 'refused', by: user])
                continue
            }
            if (answer.action == 'abort') {
                log("Rejected by ${user}")
                emit('input', [message: message, action: 'abort', by: user])
                throw new FlowInterruptedException('ABORTED', "Rejected by ${user}")
            }
            Map values = inputValues(params, answer.parameters ?: [:])
            log("Approved by ${user}")
            emit('input', [message: message, action: 'approve', by: user, parameters: values])
            if (a.submitterParameter) {
                values[a.submitterParameter.toString()] = user
            }
            // As Jenkins: nothing, the one value, or a map of them all.
            return values.isEmpty() ? null : values.size() == 1 ? values.values()[0] : values
        }
    }

    private Map inputValues(List params, Map given) {
        Map values = [:]
        Set names = params.collect { it.args.name.toString() } as Set
        given.keySet().findAll { !names.contains(it) }.each { throw harness("input has no parameter '${it}'") }
        params.each { Described p ->
            String name = p.args.name.toString()
            Object v = given.containsKey(name) ? given[name] : p.args.defaultValue
            switch (p.kind) {
                case 'booleanParam': v = v as boolean; break
                case 'choice':
                    List choices = p.args.choices instanceof List ? p.args.choices : p.args.choices.toString().readLines()
                    v = given.containsKey(name) ? v : choices[0]
                    if (!(v in choices)) { throw harness("input ${name}: '${v}' is not one of ${choices}") }
                    break
                default:
                    v = v == null ? '' : v.toString()
                    if (p.args.trim) { v = v.trim() }
            }
            values[name] = v
        }
        return values
    }

    // -- the declarative pipeline ------------------------------------------------------------
    Object pipeline(Closure body) {
        Pipeline p = new Pipeline(build: this, where: 'pipeline', name: null)
        p.read(body)
        if (p.agent == null) {
            throw harness('pipeline has no agent')
        }
        emit('declared', [options: p.options?.names ?: [], triggers: p.triggers?.list ?: [],
                          parameters: p.parameters?.list ?: [],
                          agent: p.agent.kind == 'label' ? p.agent.label : p.agent.kind])
        p.parameters?.list?.each { Map d ->
            if (!params.containsKey(d.name)) {
                List choices = d.choices instanceof List ? d.choices : d.choices?.toString()?.readLines()
                params[d.name] = d.kind == 'choice' ? choices[0] : d.kind == 'booleanParam' ? (d.defaultValue ?: false)
                    : d.defaultValue
                globalEnv[d.name] = params[d.name]?.toString()
            }
        }
        boolean skipCheckout = p.options?.skipDefaultCheckout == true
        Map state = [error: null]
        withOptions(p.options) {
            withAgent(p.agent, skipCheckout, true) {
                withEnvironment(p.environment) {
                    p.stages.each { Stage s ->
                        if (state.error != null) {
                            skipStage(s, 'earlier failure(s)')
                        } else if (p.options?.skipStagesAfterUnstable && result == 'UNSTABLE') {
                            skipStage(s, 'earlier stage marked as unstable')
                        } else {
                            state.error = runStage(s, skipCheckout)
                        }
                    }
                    if (p.post != null) {
                        Map post = enterStage('Declarative: Post Actions')
                        runPost(p.post, result ?: 'SUCCESS', state)
                        leaveStage(post)
                    }
                }
            }
        }
        if (state.error != null) {
            throw state.error
        }
        return null
    }

    private Object withOptions(Options options, Closure body) {
        Closure inner = body
        if (options?.ansiColor) {   // the AnsiColor plugin sets TERM to the colour map's name
            Closure c = inner
            inner = { -> withOverlay([TERM: options.ansiColor], c) }
        }
        if (options?.timeout) {
            Closure c = inner
            inner = { -> withTimeout(options.timeout, c) }
        }
        return inner.call()
    }

    /** A declarative agent: a node, and on it the implicit `checkout scm` unless skipDefaultCheckout. */
    private Object withAgent(Agent agent, boolean skipCheckout, boolean topLevel, Closure body) {
        if (agent == null || agent.kind == 'none') {
            return body.call()
        }
        return onNode(agent.kind == 'any' ? null : agent.label) {
            if (!skipCheckout && spec.scm != null) {   // a pipeline not from SCM has no implicit checkout
                Map s = topLevel ? enterStage('Declarative: Checkout SCM') : null
                log('[Pipeline] checkout')
                globalEnv.putAll(checkout())
                if (s != null) {
                    leaveStage(s)
                }
            }
            body.call()
        }
    }

    private Object withEnvironment(Closure block, Closure body) {
        if (block == null) {
            return body.call()
        }
        Environment e = new Environment(build: this)
        block.resolveStrategy = Closure.DELEGATE_FIRST
        block.delegate = e
        try {
            block.call()
        } finally {
            block.delegate = null
            block.resolveStrategy = Closure.OWNER_FIRST
        }
        return e.bound() ? withBound(e.variables(), e.bound(), body) : withOverlay(e.variables(), body)
    }

    static String worst(String a, String b) {
        return rank(a ?: 'SUCCESS') >= rank(b ?: 'SUCCESS') ? (a ?: 'SUCCESS') : b
    }

    static String resultOf(Throwable e) { e instanceof FlowInterruptedException ? e.result : 'FAILURE' }

    private Map enterStage(String name) {
        Map s = [seq: next('seq'), name: name, status: 'SUCCESS', agent: ws != null,
                 credentials: Collections.synchronizedSet(new HashSet(boundIds())),
                 started: System.currentTimeMillis()]
        log('[Pipeline] stage')
        log("[Pipeline] { (${name})")
        stageStack << s
        return s
    }

    private void leaveStage(Map s, String skipped = null) {
        stageStack.remove(s)
        log('[Pipeline] }')
        log('[Pipeline] // stage')
        emit('stage', [name: s.name, path: stageStack*.name + [s.name], seq: s.seq, status: skipped ? 'SKIPPED' : s.status,
                       skipped: skipped, agent: s.agent, credentials: s.credentials.sort(), started: s.started,
                       ended: System.currentTimeMillis()])
    }

    private void skipStage(Stage st, String why) {
        Map s = enterStage(st.name)
        log("Stage \"${st.name}\" skipped due to ${why}")
        leaveStage(s, why)
    }

    private void fail(Map stage, Throwable e) {
        stage.status = worst(stage.status, resultOf(e))
        worsen(resultOf(e))
    }

    /** A declarative stage; returns the error that ended it, if any. */
    private Throwable runStage(Stage st, boolean skipCheckout) {
        Map s = enterStage(st.name)
        Map state = [error: null, skipped: false]
        try {
            withOptions(st.options) {
                if (st.when?.beforeAgent && !st.when.holds()) {
                    state.skipped = true
                    return
                }
                withAgent(st.agent, skipCheckout || st.options?.skipDefaultCheckout == true, false) {
                    if (st.when && !st.when.beforeAgent && !st.when.holds()) {
                        state.skipped = true
                        return
                    }
                    withEnvironment(st.environment) {
                        try {
                            st.steps.call()
                        } catch (HarnessError e) {
                            throw e
                        } catch (Throwable e) {
                            state.error = e
                            fail(s, e)
                        }
                        if (st.post != null) {
                            log('Post stage')
                            runPost(st.post, s.status, state)
                        }
                    }
                }
            }
        } catch (HarnessError e) {
            throw e
        } catch (Throwable e) {   // from the agent, the when, the environment or the stage's options
            state.error = state.error ?: e
            fail(s, e)
        }
        if (state.skipped) {
            log("Stage \"${st.name}\" skipped due to when conditional")
        }
        leaveStage(s, state.skipped ? 'when' : null)
        return state.error
    }

    /** Post conditions in Jenkins' order; an error in one still lets the others run. */
    private void runPost(Post post, String status, Map state) {
        Post.ORDER.each { String condition ->
            Closure block = post.blocks[condition]
            if (block == null || !Post.meets(condition, status)) {
                return
            }
            emit('post', [condition: condition])
            try {
                block.call()
            } catch (HarnessError e) {
                throw e
            } catch (Throwable e) {
                fail(stageStack[-1], e)
                state.error = state.error ?: e
            }
        }
    }

    /**
     * `parallel`: every branch at once, each on a thread of its own with a copy of this
     * thread's frame, shown as a stage of its own. A failing branch lets the others finish
     * (with failFast, they are aborted at their next step); then the step fails with the
     * first failure, in the order the branches were given.
     */
    Object runParallel(Map<String, Closure> branches, boolean failFast) {
        Frame parent = frame()
        Map group = Collections.synchronizedMap([failed: null])
        Map<String, Throwable> errors = Collections.synchronizedMap(new LinkedHashMap<String, Throwable>())
        emit('parallel', [branches: branches.keySet() as List])
        List<Thread> threads = branches.collect { String name, Closure body ->
            Frame child = parent.copy()
            child.branch = name
            child.group = group
            Thread.start("branch-${name}") {
                frames.set(child)
                Map s = enterStage(name)
                s.branch = true
                try {
                    body.call()
                } catch (Throwable e) {
                    errors[name] = e
                    if (!(e instanceof HarnessError)) {
                        s.status = worst(s.status, resultOf(e))
                        if (failFast && group.failed == null) {
                            group.failed = name
                        }
                    }
                } finally {
                    leaveStage(s)
                }
            }
        }
        threads*.join()
        Throwable misuse = errors.values().find { it instanceof HarnessError }
        if (misuse != null) {
            throw misuse
        }
        // With failFast the branch that failed is the cause; the others were only aborted for it.
        String first = group.failed ?: branches.keySet().find { errors.containsKey(it) }
        if (first != null) {
            Throwable e = errors[first]
            log("Failed in branch ${first}")
            worsen(resultOf(e))
            throw e
        }
        return null
    }

    Object scriptedStage(String name, Closure body) {
        Map s = enterStage(name)
        try {
            return body.call()
        } catch (HarnessError e) {
            throw e
        } catch (Throwable e) {
            s.status = worst(s.status, resultOf(e))
            throw e
        } finally {
            leaveStage(s)
        }
    }

    // -- the build ---------------------------------------------------------------------------
    int run() {
        params.putAll(spec.params)
        spec.params.each { k, v -> globalEnv[k] = v?.toString() }
        withMilestones { Map m -> m[spec.number.toString()] = null }
        CompilerConfiguration config = new CompilerConfiguration()
        config.scriptBaseClass = JenkinsfileScript.name
        GroovyShell shell = new GroovyShell(getClass().classLoader, new Binding(), config)
        JenkinsfileScript script
        try {
            script = shell.parse(new GroovyCodeSource(new File(jenkinsfile).getText('UTF-8'), 'WorkflowScript',
                '/groovy/shell')) as JenkinsfileScript
        } catch (org.codehaus.groovy.control.CompilationFailedException e) {
            emit('harness_error', [message: "${jenkinsfile}: does not compile: ${e.message}"])
            return 3
        }
        script.attach(this)
        log('[Pipeline] Start of Pipeline')
        Throwable error = null
        try {
            script.run()
        } catch (HarnessError e) {
            return 3
        } catch (Throwable e) {
            error = e
            worsen(resultOf(e))
        } finally {
            withMilestones { Map m ->
                boolean passed = m[spec.number.toString()] != null
                m.remove(spec.number.toString())
                if (passed) {   // a finished build supersedes older running ones
                    m.findAll { k, v -> (k as int) < (spec.number as int) }.each { k, v ->
                        cancel(k as int, "Superseded by #${spec.number}")
                    }
                }
            }
        }
        log('[Pipeline] End of Pipeline')
        if (error != null) {
            log(describe(error))
        }
        String finalResult = result ?: 'SUCCESS'
        log("Finished: ${finalResult}")
        emit('finished', [result: finalResult, description: description,
                          error: error == null ? null : describe(error),
                          error_line: error == null ? null : where(error)])
        return 0
    }
}

Map spec = new JsonSlurper().parse(new File(args[0])) as Map
Rehearsal rehearsal = new Rehearsal(spec)
int code
try {
    code = rehearsal.run()
} finally {
    rehearsal.events.close()
}
System.exit(code)
